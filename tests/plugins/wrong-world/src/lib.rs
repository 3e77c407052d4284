//! A valid WebAssembly component that exports a world of its own instead of hookgate's: the
//! gateway must reject it ("wrong world") and keep serving what it had.
#![allow(missing_docs, unsafe_code)]

wit_bindgen::generate!({
    inline: r#"
        package test:wrong-world;

        world greeter {
            export greet: func(name: string) -> string;
        }
    "#,
    world: "greeter",
});

struct Greeter;

impl Guest for Greeter {
    fn greet(name: String) -> String {
        format!("hello, {name}")
    }
}

export!(Greeter);

//! Trap stubs for the imports a platform plugin may declare but is not granted.
//!
//! Rust's standard library makes every wasm32-wasip2 component import WASI interfaces; a
//! platform plugin must still link, but calling any of them traps (no clock, files, network or
//! environment). wasmtime's `define_unknown_imports_as_traps` cannot be used for this: it
//! stubs by exact name, so a plugin built against a newer minor version of `hookgate:plugin`
//! (importing `crypto@1.2.0` where the host defines `crypto@1.0.0`) would get a trap where the
//! semver-compatible host function should answer. Here the host's own package is never
//! stubbed: its imports resolve semver-compatibly, or the plugin fails to link with a clear
//! error (say, a function from a minor version this host does not serve).

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, LinkerInstance, ResourceType};

/// The WIT package whose imports the host serves itself.
const OWN_PACKAGE: &str = "hookgate:plugin/";

/// Defines a trapping stub in `linker` for every import of `component` outside
/// `hookgate:plugin`.
pub(super) fn stub_foreign_imports<T: 'static>(
    linker: &mut Linker<T>,
    component: &Component,
) -> wasmtime::Result<()> {
    let engine = linker.engine().clone();
    let ty = component.component_type();
    let mut root = linker.root();
    for (name, item) in ty.imports(&engine) {
        if name.starts_with(OWN_PACKAGE) {
            continue;
        }
        stub(&mut root, name, name, &item.ty, &engine)?;
    }
    Ok(())
}

fn stub<T: 'static>(
    linker: &mut LinkerInstance<'_, T>,
    path: &str,
    name: &str,
    item: &ComponentItem,
    engine: &wasmtime::Engine,
) -> wasmtime::Result<()> {
    match item {
        ComponentItem::ComponentFunc(_) => {
            let denied = format!("import `{path}` is not granted to platform plugins");
            linker.func_new(name, move |_, _, _, _| {
                Err(wasmtime::format_err!("{denied}"))
            })
        }
        ComponentItem::Resource(_) => {
            linker.resource(name, ResourceType::host::<()>(), |_, _| Ok(()))
        }
        ComponentItem::ComponentInstance(instance) => {
            let mut inner = linker.instance(name)?;
            for (export, item) in instance.exports(engine) {
                let path = format!("{path}#{export}");
                stub(&mut inner, &path, export, &item.ty, engine)?;
            }
            Ok(())
        }
        // Types need no definition; modules and components are never imported by plugins
        // (and then linking fails with wasmtime's own message).
        _ => Ok(()),
    }
}

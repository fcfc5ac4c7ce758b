//! The bundled fonts (Noto Sans and Noto Sans Bengali, OFL; `kiosk/ui/fonts/`), registered as
//! Slint's sans-serif family and as the fallback for Bengali script, so text renders with them
//! whatever the system has. The `.slint` files also import them and name Noto Sans Bengali as
//! every window's default family: an imported font alone is no fallback for Bengali.

use std::cell::Cell;
use std::sync::Arc;

use slint::fontique_010::fontique;

const BENGALI_REGULAR: &[u8] = include_bytes!("../ui/fonts/NotoSansBengali-Regular.ttf");
const BENGALI_BOLD: &[u8] = include_bytes!("../ui/fonts/NotoSansBengali-Bold.ttf");
const LATIN_REGULAR: &[u8] = include_bytes!("../ui/fonts/NotoSans-Regular.ttf");
const LATIN_BOLD: &[u8] = include_bytes!("../ui/fonts/NotoSans-Bold.ttf");

thread_local! {
    static REGISTERED: Cell<bool> = const { Cell::new(false) };
}

/// Register the bundled fonts with the Slint platform of this thread (once). Call after the
/// platform is set up (after the first window is created).
pub fn register() {
    if REGISTERED.with(Cell::get) {
        return;
    }
    REGISTERED.with(|r| r.set(true));
    let mut collection = slint::fontique_010::shared_collection();
    let mut families = |bytes: &'static [u8]| -> Vec<fontique::FamilyId> {
        collection
            .register_fonts(fontique::Blob::new(Arc::new(bytes)), None)
            .into_iter()
            .map(|(family, _)| family)
            .collect()
    };
    let latin: Vec<_> = [LATIN_REGULAR, LATIN_BOLD]
        .into_iter()
        .flat_map(&mut families)
        .collect();
    let bengali: Vec<_> = [BENGALI_REGULAR, BENGALI_BOLD]
        .into_iter()
        .flat_map(&mut families)
        .collect();
    let mut chain = latin.clone();
    chain.extend(bengali.iter().copied());
    chain.dedup();
    for generic in [
        fontique::GenericFamily::SansSerif,
        fontique::GenericFamily::SystemUi,
        fontique::GenericFamily::UiSansSerif,
    ] {
        collection.set_generic_families(generic, chain.iter().copied());
    }
    collection.append_fallbacks(
        fontique::FallbackKey::new(fontique::Script::from_bytes(*b"Beng"), None),
        bengali.iter().copied(),
    );
    collection.append_fallbacks(
        fontique::FallbackKey::new(fontique::Script::from_bytes(*b"Latn"), None),
        latin.iter().copied(),
    );
}

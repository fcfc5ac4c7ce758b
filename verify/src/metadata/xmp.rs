//! XMP packets: find `<x:xmpmeta …>…</x:xmpmeta>` in the bytes and read the properties that
//! tell who made or edited the image (CreatorTool, History softwareAgent, dates, source type).

use memchr::memmem;

/// XMP properties of interest, by namespace URI and local name.
const WANTED: [(&str, &str, Prop); 12] = [
    (NS_XMP, "CreatorTool", Prop::CreatorTool),
    (NS_XMP, "ModifyDate", Prop::ModifyDate),
    (NS_XMP, "MetadataDate", Prop::MetadataDate),
    (NS_XMP, "CreateDate", Prop::CreateDate),
    (NS_EVT, "softwareAgent", Prop::SoftwareAgent),
    (NS_PS, "DateCreated", Prop::DateCreated),
    (NS_EXIF, "DateTimeOriginal", Prop::DateTimeOriginal),
    (NS_TIFF, "Make", Prop::Make),
    (NS_TIFF, "Model", Prop::Model),
    (NS_TIFF, "Software", Prop::Software),
    (NS_IPTC_EXT, "DigitalSourceType", Prop::DigitalSourceType),
    (NS_PLUS, "DigitalSourceType", Prop::DigitalSourceType),
];

const NS_XMP: &str = "http://ns.adobe.com/xap/1.0/";
const NS_EVT: &str = "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#";
const NS_PS: &str = "http://ns.adobe.com/photoshop/1.0/";
const NS_EXIF: &str = "http://ns.adobe.com/exif/1.0/";
const NS_TIFF: &str = "http://ns.adobe.com/tiff/1.0/";
const NS_IPTC_EXT: &str = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/";
const NS_PLUS: &str = "http://ns.useplus.org/ldf/xmp/1.0/";

/// Which property a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prop {
    CreatorTool,
    ModifyDate,
    MetadataDate,
    CreateDate,
    SoftwareAgent,
    DateCreated,
    DateTimeOriginal,
    Make,
    Model,
    Software,
    DigitalSourceType,
}

/// What the XMP packets said.
#[derive(Debug, Clone, Default)]
pub struct Xmp {
    pub packets: usize,
    /// Packets that are not well-formed XML.
    pub unreadable: usize,
    pub values: Vec<(Prop, String)>,
}

impl Xmp {
    pub fn first(&self, prop: Prop) -> Option<&str> {
        self.values
            .iter()
            .find(|(p, _)| *p == prop)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, prop: Prop) -> impl Iterator<Item = &str> {
        self.values
            .iter()
            .filter(move |(p, _)| *p == prop)
            .map(|(_, v)| v.as_str())
    }
}

/// Limits on the work done for XMP.
#[derive(Debug, Clone, Copy)]
pub struct XmpLimits {
    pub max_packets: usize,
    pub max_packet_bytes: usize,
    pub max_values: usize,
}

/// Find and read the XMP packets in `bytes` (raw file bytes or a decompressed text chunk).
pub fn scan(bytes: &[u8], limits: XmpLimits, out: &mut Xmp) {
    let open = memmem::Finder::new(b"<x:xmpmeta");
    let close = memmem::Finder::new(b"</x:xmpmeta>");
    let mut from = 0;
    while out.packets < limits.max_packets {
        let Some(start) = open.find(&bytes[from..]).map(|i| from + i) else {
            break;
        };
        let window_end = bytes
            .len()
            .min(start.saturating_add(limits.max_packet_bytes));
        let Some(end) = close
            .find(&bytes[start..window_end])
            .map(|i| start + i + b"</x:xmpmeta>".len())
        else {
            // An unterminated or oversized packet: count it, read nothing, move on.
            out.packets += 1;
            out.unreadable += 1;
            from = start + 1;
            continue;
        };
        out.packets += 1;
        read_packet(&bytes[start..end], limits, out);
        from = end;
    }
}

fn read_packet(packet: &[u8], limits: XmpLimits, out: &mut Xmp) {
    let Ok(text) = std::str::from_utf8(packet) else {
        out.unreadable += 1;
        return;
    };
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 50_000,
        ..roxmltree::ParsingOptions::default()
    };
    let Ok(doc) = roxmltree::Document::parse_with_options(text, options) else {
        out.unreadable += 1;
        return;
    };
    let mut push = |prop: Prop, value: &str| {
        let value = clean(value);
        if !value.is_empty() && out.values.len() < limits.max_values {
            out.values.push((prop, value));
        }
    };
    let lookup = |ns: Option<&str>, name: &str| {
        WANTED
            .iter()
            .find(|(n, l, _)| Some(*n) == ns && *l == name)
            .map(|(_, _, p)| *p)
    };
    for node in doc.descendants().filter(roxmltree::Node::is_element) {
        let tag = node.tag_name();
        if let Some(prop) = lookup(tag.namespace(), tag.name()) {
            // Simple value, or the first rdf:li of an Alt/Seq/Bag.
            let text = node.text().filter(|t| !t.trim().is_empty()).or_else(|| {
                // Bounded, so nested look-alike elements cannot make this quadratic.
                node.descendants()
                    .take(64)
                    .filter(roxmltree::Node::is_element)
                    .find(|n| n.tag_name().name() == "li")
                    .and_then(|n| n.text())
            });
            if let Some(t) = text {
                push(prop, t);
            }
        }
        for attr in node.attributes() {
            if let Some(prop) = lookup(attr.namespace(), attr.name()) {
                push(prop, attr.value());
            }
        }
    }
}

/// Trim, drop control characters and cap the length of a value for reports.
pub fn clean(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: XmpLimits = XmpLimits {
        max_packets: 4,
        max_packet_bytes: 1 << 20,
        max_values: 64,
    };

    #[test]
    fn reads_attribute_and_element_forms() {
        let packet = br#"junk<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
 xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#" xmp:CreatorTool="Adobe Photoshop CC 2019 (Windows)">
<xmp:ModifyDate>2019-03-01T10:00:00+06:00</xmp:ModifyDate>
<xmpMM:History><rdf:Seq><rdf:li stEvt:action="saved" stEvt:softwareAgent="Adobe Photoshop Lightroom 6.0"/>
<rdf:li><rdf:Description><stEvt:softwareAgent>GIMP 2.10</stEvt:softwareAgent></rdf:Description></rdf:li></rdf:Seq></xmpMM:History>
</rdf:Description></rdf:RDF></x:xmpmeta>tail"#;
        let mut xmp = Xmp::default();
        scan(packet, LIMITS, &mut xmp);
        assert_eq!(xmp.packets, 1);
        assert_eq!(xmp.unreadable, 0);
        assert_eq!(
            xmp.first(Prop::CreatorTool),
            Some("Adobe Photoshop CC 2019 (Windows)")
        );
        assert_eq!(
            xmp.first(Prop::ModifyDate),
            Some("2019-03-01T10:00:00+06:00")
        );
        let agents: Vec<&str> = xmp.all(Prop::SoftwareAgent).collect();
        assert_eq!(agents, ["Adobe Photoshop Lightroom 6.0", "GIMP 2.10"]);
    }

    #[test]
    fn broken_packets_are_counted_not_read() {
        let mut xmp = Xmp::default();
        scan(
            b"<x:xmpmeta <<<< </x:xmpmeta> <x:xmpmeta never closed",
            LIMITS,
            &mut xmp,
        );
        assert_eq!((xmp.packets, xmp.unreadable), (2, 2));
        assert!(xmp.values.is_empty());
    }
}

//! The MICR line's fields: cheque number, routing number, account number, transaction code
//! (and the amount field a bank encodes after presentment), for the Bangladeshi BACPS layout
//! (7 | 9 | 13 | 2 digits) and the US layout (on-us, transit, amount fields).
//!
//! Input is a read in the transcript alphabet (`0-9`, `A` transit, `B` amount, `C` on-us,
//! `D` dash). The line is cut into digit groups at the symbols; dashes stay inside a group.

use serde::Serialize;

use super::routing::{aba_check, bd_check};

/// Which layout the line was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Bangladesh (BACPS): cheque number 7 | routing 9 | account 13 | transaction code 2.
    Bd,
    /// US: auxiliary on-us (cheque number), transit (ABA routing), on-us (account, cheque
    /// number), amount.
    Us,
    /// Neither layout fits.
    Unknown,
}

/// Fields of a MICR line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MicrFields {
    pub layout: Layout,
    pub cheque_number: Option<String>,
    pub routing: Option<String>,
    /// Digits (a dash as `-`).
    pub account: Option<String>,
    pub transaction_code: Option<String>,
    /// The amount field (`B…B`), in the currency's smallest unit.
    pub amount_minor: Option<u64>,
}

/// One run of digits (and dashes) between symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    /// Symbol before (`A`, `B`, `C`) or `None` at the start.
    before: Option<u8>,
    after: Option<u8>,
    text: String,
}

impl Group {
    fn plain(&self) -> bool {
        self.text.bytes().all(|b| b.is_ascii_digit())
    }
}

fn groups(raw: &str) -> Vec<Group> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut before = None;
    for b in raw.bytes() {
        match b {
            b'0'..=b'9' => cur.push(char::from(b)),
            b'D' => cur.push('-'),
            b'A' | b'B' | b'C' => {
                if !cur.is_empty() {
                    out.push(Group {
                        before,
                        after: Some(b),
                        text: std::mem::take(&mut cur),
                    });
                }
                before = Some(b);
            }
            _ => {} // spaces, anything else
        }
    }
    if !cur.is_empty() {
        out.push(Group {
            before,
            after: None,
            text: cur,
        });
    }
    out
}

/// Parse a MICR read (transcript alphabet) into its fields.
pub fn parse(raw: &str) -> MicrFields {
    let gs = groups(raw);
    let mut f = MicrFields {
        layout: Layout::Unknown,
        cheque_number: None,
        routing: None,
        account: None,
        transaction_code: None,
        amount_minor: None,
    };
    // The amount field, `B` on both sides, ten digits.
    if let Some(g) = gs
        .iter()
        .find(|g| g.before == Some(b'B') && g.after == Some(b'B') && g.plain())
    {
        f.amount_minor = g.text.parse().ok();
    }
    let fields: Vec<&Group> = gs
        .iter()
        .filter(|g| !(g.before == Some(b'B') && g.after == Some(b'B')))
        .collect();

    // Bangladesh: 7 | 9 | 13 | 2 in that order, the routing number passing its check. A read
    // that lost every symbol is cut by the same lengths.
    let lens: Vec<usize> = fields.iter().map(|g| g.text.len()).collect();
    let bd_at = fields.windows(4).position(|w| {
        w[0].text.len() == 7
            && w[1].text.len() == 9
            && w[2].text.len() == 13
            && w[3].text.len() == 2
            && w.iter().all(|g| g.plain())
            && bd_check(&w[1].text)
    });
    if let Some(i) = bd_at {
        f.layout = Layout::Bd;
        f.cheque_number = Some(fields[i].text.clone());
        f.routing = Some(fields[i + 1].text.clone());
        f.account = Some(fields[i + 2].text.clone());
        f.transaction_code = Some(fields[i + 3].text.clone());
        return f;
    }
    if lens == [31] && fields[0].plain() && bd_check(&fields[0].text[7..16]) {
        let t = &fields[0].text;
        f.layout = Layout::Bd;
        f.cheque_number = Some(t[..7].to_owned());
        f.routing = Some(t[7..16].to_owned());
        f.account = Some(t[16..29].to_owned());
        f.transaction_code = Some(t[29..].to_owned());
        return f;
    }

    // US: the routing number sits between two transit symbols (or before one) and passes the
    // ABA check.
    let transit = fields.iter().position(|g| {
        g.text.len() == 9
            && g.plain()
            && aba_check(&g.text)
            && (g.after == Some(b'A') || g.before == Some(b'A'))
    });
    if let Some(i) = transit {
        f.layout = Layout::Us;
        f.routing = Some(fields[i].text.clone());
        // Auxiliary on-us before the routing number: the cheque number of business cheques.
        if let Some(aux) = fields[..i]
            .iter()
            .rev()
            .find(|g| g.before == Some(b'C') && g.after == Some(b'C'))
        {
            f.cheque_number = Some(aux.text.clone());
        }
        // On-us after the routing number: the account, ended by an on-us symbol; on personal
        // cheques the cheque number follows it.
        let rest = &fields[i + 1..];
        if let Some(acc) = rest.first() {
            f.account = Some(acc.text.clone());
        }
        if f.cheque_number.is_none() {
            if let Some(num) = rest.get(1).filter(|g| g.before == Some(b'C') && g.plain()) {
                f.cheque_number = Some(num.text.clone());
            }
        }
        return f;
    }
    // Only the routing number recognisable: keep it.
    f.routing = fields
        .iter()
        .find(|g| g.text.len() == 9 && g.plain() && (bd_check(&g.text) || aba_check(&g.text)))
        .map(|g| g.text.clone());
    f
}

/// An account number with all but its last four digits masked: `XXXXXXXXX9012`.
pub fn mask_account(account: &str) -> String {
    let n = account.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    account
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen + 4 <= n {
                    return 'X';
                }
            }
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Expect<'a> = (
        Layout,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );

    fn check(raw: &str, (layout, cheque, routing, account, code): Expect) {
        let f = parse(raw);
        assert_eq!(f.layout, layout, "{raw}");
        assert_eq!(f.cheque_number.as_deref(), cheque, "{raw} cheque");
        assert_eq!(f.routing.as_deref(), routing, "{raw} routing");
        assert_eq!(f.account.as_deref(), account, "{raw} account");
        assert_eq!(f.transaction_code.as_deref(), code, "{raw} code");
    }

    #[test]
    fn bangladeshi_lines() {
        let bd = |c, r, a, t| (Layout::Bd, Some(c), Some(r), Some(a), Some(t));
        check(
            "C1234567C010010048A0123456789012C10",
            bd("1234567", "010010048", "0123456789012", "10"),
        );
        check(
            "1234567C010010048A0123456789012C10",
            bd("1234567", "010010048", "0123456789012", "10"),
        );
        // Every symbol lost: cut by lengths.
        check(
            "1234567010010048012345678901210",
            bd("1234567", "010010048", "0123456789012", "10"),
        );
        // Bad check digit: not read as Bangladeshi.
        let f = parse("C1234567C010010049A0123456789012C10");
        assert_eq!(f.layout, Layout::Unknown);
        assert_eq!(f.routing, None);
    }

    #[test]
    fn us_lines() {
        check(
            "C1050482880CA121000248A4861507788C",
            (
                Layout::Us,
                Some("1050482880"),
                Some("121000248"),
                Some("4861507788"),
                None,
            ),
        );
        check(
            "A031901835A002131252C1521",
            (
                Layout::Us,
                Some("1521"),
                Some("031901835"),
                Some("002131252"),
                None,
            ),
        );
        check(
            "A122239050A1076D002D007770C",
            (
                Layout::Us,
                None,
                Some("122239050"),
                Some("1076-002-007770"),
                None,
            ),
        );
        let f = parse("A1222D1606A001D252328C69B0000020000B");
        assert_eq!(f.amount_minor, Some(20_000));
    }

    #[test]
    fn nothing_recognisable() {
        check("", (Layout::Unknown, None, None, None, None));
        check("C12C34A", (Layout::Unknown, None, None, None, None));
    }

    #[test]
    fn masking() {
        let cases = [
            ("0123456789012", "XXXXXXXXX9012"),
            ("1076-002-007770", "XXXX-XXX-XX7770"),
            ("123", "123"),
            ("", ""),
        ];
        for (a, want) in cases {
            assert_eq!(mask_account(a), want, "{a}");
        }
    }
}

//! Reading the shared CSV lists: RFC 4180 parsing and tables checked against their header.

use std::fs;
use std::path::Path;

use crate::Result;

/// Parses RFC 4180 CSV: quoted fields (with `""` escapes and embedded separators/newlines),
/// LF or CRLF line ends, an optional UTF-8 byte-order mark. Blank lines are skipped.
pub(crate) fn parse_csv(text: &str) -> Result<Vec<Vec<String>>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut field_started_quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !field_started_quoted => {
                in_quotes = true;
                field_started_quoted = true;
            }
            '"' => return Err(format!("line {line}: stray quote inside an unquoted field")),
            ',' => {
                row.push(std::mem::take(&mut field));
                field_started_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                row.push(std::mem::take(&mut field));
                field_started_quoted = false;
                if !(row.len() == 1 && row[0].is_empty()) {
                    rows.push(std::mem::take(&mut row));
                } else {
                    row.clear();
                }
            }
            _ => {
                if field_started_quoted {
                    return Err(format!("line {line}: text after a closing quote"));
                }
                field.push(c);
            }
        }
    }
    if in_quotes {
        return Err("unterminated quoted field at end of file".into());
    }
    if !field.is_empty() || !row.is_empty() || field_started_quoted {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// Reads a CSV file and returns its records as maps keyed by the requested column names.
pub(crate) fn read_table(path: &Path, columns: &[&str]) -> Result<Vec<Vec<String>>> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = parse_csv(&text)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .into_iter();
    let header = rows
        .next()
        .ok_or_else(|| format!("{}: empty file", path.display()))?;
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| {
            header
                .iter()
                .position(|h| h.trim() == *c)
                .ok_or_else(|| format!("{}: no column {c:?} in header {header:?}", path.display()))
        })
        .collect::<Result<_>>()?;
    let mut out = Vec::new();
    for (n, row) in rows.enumerate() {
        if row.len() != header.len() {
            return Err(format!(
                "{}: record {} has {} fields, header has {}",
                path.display(),
                n + 2,
                row.len(),
                header.len()
            ));
        }
        // One space between words: the source lists write a few names with two.
        let rec: Vec<String> = idx
            .iter()
            .map(|&i| row[i].split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        for v in &rec {
            if v.is_empty() || v.contains(['\t', '\n', '\r']) {
                return Err(format!(
                    "{}: record {}: empty field or tab/newline in {v:?}",
                    path.display(),
                    n + 2
                ));
            }
        }
        out.push(rec);
    }
    Ok(out)
}

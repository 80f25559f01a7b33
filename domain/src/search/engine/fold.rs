//! What SQLite's names index makes of a name, here: its trigram tokenizer (`remove_diacritics
//! 1`, case folded) folds each character by `sqlite3Fts5UnicodeFold(c, 2)` — ported below with
//! its tables (from SQLite, public domain) — and drops the combining marks. So a name can be
//! checked against a word without the index: the paths phase checks up to thousands of names,
//! and through the index each costs 0.4 ms. The test compares this with the index for every
//! character up to U+104FF (past them, neither folds any).

/// `text` as the names index reads it: each character folded, combining marks dropped.
pub(super) fn fold(text: &str) -> String {
    text.chars().filter_map(fold_char).collect()
}

/// One character as the names index reads it (`None`: dropped).
fn fold_char(c: char) -> Option<char> {
    let code = u32::from(c);
    let folded = match code {
        0..=127 => u32::from(c.to_ascii_lowercase()),
        // SQLite reads these two as U+FFFD, which folds to itself.
        0xFFFE | 0xFFFF => 0xFFFD,
        128..=0xFFFF => without_diacritic(lower_case(code)),
        66_560..66_600 => code + 40,
        _ => code,
    };
    char::from_u32(folded).filter(|folded| *folded != '\0')
}

/// `code` (128 to 65,535) in lower case.
fn lower_case(code: u32) -> u32 {
    let after = CASE_RUNS.partition_point(|&(first, _, _)| u32::from(first) <= code);
    let Some(&(first, flags, length)) = after.checked_sub(1).map(|run| &CASE_RUNS[run]) else {
        return code;
    };
    let first = u32::from(first);
    // An odd flag: only every second code point of the run, from its first, is upper case.
    let every_second = u32::from(flags) & 1;
    if code < first + u32::from(length) && every_second & (first ^ code) == 0 {
        (code + u32::from(CASE_OFFSETS[usize::from(flags >> 1)])) & 0xFFFF
    } else {
        code
    }
}

/// `code` (in lower case) without its diacritics: a letter with some becomes the letter, a
/// combining mark becomes 0.
fn without_diacritic(code: u32) -> u32 {
    let key = (code << 3) | 7;
    // The first run starts at 0, so some run starts at or before every code.
    let run = DIACRITIC_RUNS.partition_point(|&run| u32::from(run) <= key) - 1;
    let start = u32::from(DIACRITIC_RUNS[run]);
    if code > (start >> 3) + (start & 7) { code } else { u32::from(DIACRITIC_LETTERS[run]) }
}

/// `aDia`: (code point << 3) | (range length − 1) of each run that loses its diacritic.
const DIACRITIC_RUNS: [u16; 126] = [
    0, 1797, 1848, 1859, 1891, 1928, 1940, 1995, 2024, 2040, 2060, 2110, 2168, 2206, 2264, 2286,
    2344, 2383, 2472, 2488, 2516, 2596, 2668, 2732, 2782, 2842, 2894, 2954, 2984, 3000, 3028, 3336,
    3456, 3696, 3712, 3728, 3744, 3766, 3832, 3896, 3912, 3928, 3944, 3968, 4008, 4040, 4056, 4106,
    4138, 4170, 4202, 4234, 4266, 4296, 4312, 4344, 4408, 4424, 4442, 4472, 4488, 4504, 6148, 6198,
    6264, 6280, 6360, 6429, 6505, 6529, 61448, 61468, 61512, 61534, 61592, 61610, 61642, 61672,
    61688, 61704, 61726, 61784, 61800, 61816, 61836, 61880, 61896, 61914, 61948, 61998, 62062,
    62122, 62154, 62184, 62200, 62218, 62252, 62302, 62364, 62410, 62442, 62478, 62536, 62554,
    62584, 62604, 62640, 62648, 62656, 62664, 62730, 62766, 62830, 62890, 62924, 62974, 63032,
    63050, 63082, 63118, 63182, 63242, 63274, 63310, 63368, 63390,
];

/// `aChar`: the letter each run of [`DIACRITIC_RUNS`] becomes (`0`: dropped, a combining
/// mark). SQLite marks letters with more than one diacritic, which its "complex" mode folds
/// too — the trigram tokenizer's `remove_diacritics 1` is that mode.
const DIACRITIC_LETTERS: [u8; 126] = [
    0, b'a', b'c', b'e', b'i', b'n', b'o', b'u', b'y', b'y', b'a', b'c', b'd', b'e', b'e', b'g',
    b'h', b'i', b'j', b'k', b'l', b'n', b'o', b'r', b's', b't', b'u', b'u', b'w', b'y', b'z', b'o',
    b'u', b'a', b'i', b'o', b'u', b'u', b'a', b'g', b'k', b'o', b'o', b'j', b'g', b'n', b'a', b'a',
    b'e', b'i', b'o', b'r', b'u', b's', b't', b'h', b'a', b'e', b'o', b'o', b'o', b'y', 0, 0, 0, 0,
    0, 0, 0, 0, b'a', b'b', b'c', b'd', b'd', b'e', b'e', b'e', b'f', b'g', b'h', b'h', b'i', b'i',
    b'k', b'l', b'l', b'l', b'm', b'n', b'o', b'p', b'r', b'r', b'r', b's', b's', b't', b'u', b'u',
    b'v', b'w', b'w', b'x', b'y', b'z', b'h', b't', b'w', b'y', b'a', b'a', b'a', b'a', b'e', b'e',
    b'e', b'i', b'o', b'o', b'o', b'o', b'u', b'u', b'u', b'y',
];

/// `aEntry`: (first code point, flags, range length) of each run of upper-case letters.
const CASE_RUNS: [(u16, u8, u8); 163] = [
    (65, 14, 26),
    (181, 64, 1),
    (192, 14, 23),
    (216, 14, 7),
    (256, 1, 48),
    (306, 1, 6),
    (313, 1, 16),
    (330, 1, 46),
    (376, 116, 1),
    (377, 1, 6),
    (383, 104, 1),
    (385, 50, 1),
    (386, 1, 4),
    (390, 44, 1),
    (391, 0, 1),
    (393, 42, 2),
    (395, 0, 1),
    (398, 32, 1),
    (399, 38, 1),
    (400, 40, 1),
    (401, 0, 1),
    (403, 42, 1),
    (404, 46, 1),
    (406, 52, 1),
    (407, 48, 1),
    (408, 0, 1),
    (412, 52, 1),
    (413, 54, 1),
    (415, 56, 1),
    (416, 1, 6),
    (422, 60, 1),
    (423, 0, 1),
    (425, 60, 1),
    (428, 0, 1),
    (430, 60, 1),
    (431, 0, 1),
    (433, 58, 2),
    (435, 1, 4),
    (439, 62, 1),
    (440, 0, 1),
    (444, 0, 1),
    (452, 2, 1),
    (453, 0, 1),
    (455, 2, 1),
    (456, 0, 1),
    (458, 2, 1),
    (459, 1, 18),
    (478, 1, 18),
    (497, 2, 1),
    (498, 1, 4),
    (502, 122, 1),
    (503, 134, 1),
    (504, 1, 40),
    (544, 110, 1),
    (546, 1, 18),
    (570, 70, 1),
    (571, 0, 1),
    (573, 108, 1),
    (574, 68, 1),
    (577, 0, 1),
    (579, 106, 1),
    (580, 28, 1),
    (581, 30, 1),
    (582, 1, 10),
    (837, 36, 1),
    (880, 1, 4),
    (886, 0, 1),
    (902, 18, 1),
    (904, 16, 3),
    (908, 26, 1),
    (910, 24, 2),
    (913, 14, 17),
    (931, 14, 9),
    (962, 0, 1),
    (975, 4, 1),
    (976, 140, 1),
    (977, 142, 1),
    (981, 146, 1),
    (982, 144, 1),
    (984, 1, 24),
    (1008, 136, 1),
    (1009, 138, 1),
    (1012, 130, 1),
    (1013, 128, 1),
    (1015, 0, 1),
    (1017, 152, 1),
    (1018, 0, 1),
    (1021, 110, 3),
    (1024, 34, 16),
    (1040, 14, 32),
    (1120, 1, 34),
    (1162, 1, 54),
    (1216, 6, 1),
    (1217, 1, 14),
    (1232, 1, 88),
    (1329, 22, 38),
    (4256, 66, 38),
    (4295, 66, 1),
    (4301, 66, 1),
    (7680, 1, 150),
    (7835, 132, 1),
    (7838, 96, 1),
    (7840, 1, 96),
    (7944, 150, 8),
    (7960, 150, 6),
    (7976, 150, 8),
    (7992, 150, 8),
    (8008, 150, 6),
    (8025, 151, 8),
    (8040, 150, 8),
    (8072, 150, 8),
    (8088, 150, 8),
    (8104, 150, 8),
    (8120, 150, 2),
    (8122, 126, 2),
    (8124, 148, 1),
    (8126, 100, 1),
    (8136, 124, 4),
    (8140, 148, 1),
    (8152, 150, 2),
    (8154, 120, 2),
    (8168, 150, 2),
    (8170, 118, 2),
    (8172, 152, 1),
    (8184, 112, 2),
    (8186, 114, 2),
    (8188, 148, 1),
    (8486, 98, 1),
    (8490, 92, 1),
    (8491, 94, 1),
    (8498, 12, 1),
    (8544, 8, 16),
    (8579, 0, 1),
    (9398, 10, 26),
    (11264, 22, 47),
    (11360, 0, 1),
    (11362, 88, 1),
    (11363, 102, 1),
    (11364, 90, 1),
    (11367, 1, 6),
    (11373, 84, 1),
    (11374, 86, 1),
    (11375, 80, 1),
    (11376, 82, 1),
    (11378, 0, 1),
    (11381, 0, 1),
    (11390, 78, 2),
    (11392, 1, 100),
    (11499, 1, 4),
    (11506, 0, 1),
    (42560, 1, 46),
    (42624, 1, 24),
    (42786, 1, 14),
    (42802, 1, 62),
    (42873, 1, 4),
    (42877, 76, 1),
    (42878, 1, 10),
    (42891, 0, 1),
    (42893, 74, 1),
    (42896, 1, 4),
    (42912, 1, 10),
    (42922, 72, 1),
    (65313, 14, 26),
];

/// `aiOff`: the offsets [`CASE_RUNS`]' flags name.
const CASE_OFFSETS: [u16; 77] = [
    1, 2, 8, 15, 16, 26, 28, 32, 37, 38, 40, 48, 63, 64, 69, 71, 79, 80, 116, 202, 203, 205, 206,
    207, 209, 210, 211, 213, 214, 217, 218, 219, 775, 7264, 10792, 10795, 23228, 23256, 30204,
    54721, 54753, 54754, 54756, 54787, 54793, 54809, 57153, 57274, 57921, 58019, 58363, 61722,
    65268, 65341, 65373, 65406, 65408, 65410, 65415, 65424, 65436, 65439, 65450, 65462, 65472,
    65476, 65478, 65480, 65482, 65488, 65506, 65511, 65514, 65521, 65527, 65528, 65529,
];

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Database, Statement, Value};

    use super::{fold, fold_char};

    #[tokio::test]
    async fn characters_fold_as_the_names_index_folds_them() {
        let db = Database::connect("sqlite::memory:").await.expect("a database");
        db.execute_unprepared(
            "CREATE VIRTUAL TABLE t USING fts5(name, tokenize = 'trigram remove_diacritics 1'); \
             CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')",
        )
        .await
        .expect("the index of names and its terms");
        // Every character of the Basic Multilingual Plane and past the one range folded above
        // it, each after "ab": its trigram ends with what the index makes of it (none when it
        // is dropped).
        let all: Vec<char> = (1..0x1_0500).filter_map(char::from_u32).collect();
        for some in all.chunks(5_000) {
            let rows = vec!["(?, ?)"; some.len()].join(", ");
            let values = some.iter().flat_map(|c| {
                [Value::from(i64::from(u32::from(*c))), Value::from(format!("ab{c}"))]
            });
            let insert = format!("INSERT INTO t (rowid, name) VALUES {rows}");
            let insert = Statement::from_sql_and_values(db.get_database_backend(), insert, values);
            db.execute_raw(insert).await.expect("inserted");
        }
        let terms = Statement::from_string(db.get_database_backend(), "SELECT doc, term FROM v");
        let mut indexed = std::collections::HashMap::new();
        for row in db.query_all_raw(terms).await.expect("the terms") {
            let (doc, term): (i64, String) =
                (row.try_get("", "doc").unwrap(), row.try_get("", "term").unwrap());
            indexed.insert(doc, term.chars().nth(2));
        }
        let differ: Vec<String> = all
            .iter()
            .filter(|c| {
                fold_char(**c) != indexed.get(&i64::from(u32::from(**c))).copied().flatten()
            })
            .map(|c| format!("U+{:04X}", u32::from(*c)))
            .collect();
        assert!(differ.is_empty(), "folded otherwise than by the index: {differ:?}");
        assert_eq!(fold("Ǖber Straße CAFÉ e\u{301}"), "uber straße cafe e");
    }
}

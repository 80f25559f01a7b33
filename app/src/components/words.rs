//! Words for numbers and times as people read them.

use leptos::prelude::*;

/// `n` with the noun in the right number: "1 file", "2 files", "0 files".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A moment in UTC (RFC 3339, or its first 16 characters: then read as the middle of that
/// minute), shown as people read it: "5 min
/// ago", "in 3 days", "yesterday", with the exact local time on hover. The server (and a
/// browser without JavaScript) shows `2026-11-29 05:14 UTC`, the same for every reader, so
/// pages can be kept; the browser says it in its own words and time zone once hydrated.
///
/// The server writes neither `datetime` nor `title` (a listing holds a hundred of these and is
/// kept under 60 KB: every byte counts); the browser adds both.
#[component]
pub fn Time(#[prop(into)] at: String, #[prop(optional)] class: &'static str) -> impl IntoView {
    let minute = at.get(..16).unwrap_or(&at).to_owned();
    let utc = format!("{} UTC", minute.replace('T', " "));
    let datetime = format!("{minute}Z");
    let local = RwSignal::new(None::<(String, String)>);
    #[cfg(feature = "hydrate")]
    {
        let iso = match at.get(..19) {
            Some(second) => format!("{second}Z"),
            None => format!("{minute}:30Z"),
        };
        Effect::new(move |_| local.set(browser::describe(&iso)));
    }
    let title = move || local.get().map(|(_, exact)| exact);
    let datetime = move || local.get().map(|_| datetime.clone());
    let class = (!class.is_empty()).then_some(class);
    view! {
        <time datetime=datetime title=title class=class>
            {move || local.get().map_or_else(|| utc.clone(), |(words, _)| words)}
        </time>
    }
}

/// How long ago (negative: how long until) `seconds` is, in words; `day` names the date when
/// it is more than a week away.
#[cfg_attr(not(any(feature = "hydrate", test)), expect(dead_code, reason = "used by the browser"))]
fn relative(seconds: i64, day: &str) -> String {
    let (amount, past) = (seconds.unsigned_abs(), seconds >= 0);
    let say = |n: u64, unit: &str| {
        if past { format!("{n} {unit} ago") } else { format!("in {n} {unit}") }
    };
    match amount {
        0..45 => "just now".to_owned(),
        45..5_400 => say(((amount + 30) / 60).max(1), "min"),
        5_400..86_400 => say((amount + 1_800) / 3_600, "h"),
        86_400..172_800 => (if past { "yesterday" } else { "tomorrow" }).to_owned(),
        172_800..604_800 => say(amount / 86_400, "days"),
        _ => day.to_owned(),
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::wasm_bindgen::JsValue;

    /// (words, exact local time) for an ISO instant, or `None` if the browser cannot read it.
    pub fn describe(iso: &str) -> Option<(String, String)> {
        let ms = js_sys::Date::parse(iso);
        if ms.is_nan() {
            return None;
        }
        #[expect(clippy::cast_possible_truncation, reason = "seconds fit an i64")]
        let seconds = ((js_sys::Date::now() - ms) / 1000.0).round() as i64;
        let date = js_sys::Date::new(&JsValue::from_f64(ms));
        let day = String::from(date.to_locale_date_string("default", &options("dateStyle")));
        let exact = String::from(date.to_locale_string("default", &options("dateStyle timeStyle")));
        Some((super::relative(seconds, &day), exact))
    }

    /// `{dateStyle: "medium", timeStyle: "short"}` for the styles named.
    fn options(styles: &str) -> JsValue {
        let object = js_sys::Object::new();
        for style in styles.split(' ') {
            let value = if style == "dateStyle" { "medium" } else { "short" };
            let _ = js_sys::Reflect::set(&object, &style.into(), &value.into());
        }
        object.into()
    }
}

#[cfg(test)]
mod tests {
    use super::{count, relative};

    #[test]
    fn one_is_singular_and_every_other_number_plural() {
        assert_eq!(count(1, "view", "views"), "1 view");
        assert_eq!(count(0, "view", "views"), "0 views");
        assert_eq!(count(2, "file", "files"), "2 files");
    }

    #[test]
    fn moments_read_as_people_say_them() {
        let day = "Nov 29, 2026";
        assert_eq!(relative(0, day), "just now");
        assert_eq!(relative(-30, day), "just now");
        assert_eq!(relative(50, day), "1 min ago");
        assert_eq!(relative(61, day), "1 min ago");
        assert_eq!(relative(150, day), "3 min ago");
        assert_eq!(relative(-600, day), "in 10 min");
        assert_eq!(relative(3 * 3_600, day), "3 h ago");
        assert_eq!(relative(90_000, day), "yesterday");
        assert_eq!(relative(-90_000, day), "tomorrow");
        assert_eq!(relative(3 * 86_400, day), "3 days ago");
        assert_eq!(relative(-3 * 86_400, day), "in 3 days");
        assert_eq!(relative(8 * 86_400, day), day);
    }
}

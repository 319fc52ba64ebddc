//! The Account Information sheet: a one-page A4 PDF that a company's Unipos admin prints for a
//! member who logs in with a team and Login ID. Such a member has no email address, so no reset
//! mail: the QR code in the lower right corner holds the password-reset link instead, and the
//! member scans it with a smartphone to set a password in the app.
//!
//! Crates, and why:
//! - `krilla` (by the Typst authors, maintained) writes the PDF. It embeds only the glyphs a sheet
//!   uses (a 19 MB CJK collection becomes a few tens of KB) and writes a ToUnicode map, so the
//!   text can be searched and copied. Without default features: no raster image codecs, no
//!   shaper.
//! - `skrifa`, the font reader krilla itself uses, maps characters to glyphs and measures them,
//!   so lines are wrapped to the page width here. Latin and Japanese need no shaping beyond that
//!   (no kerning: acceptable on a form).
//! - `qrcode` without default features (no `image` crate): its modules are drawn as vector
//!   squares, crisp at any print size.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{anyhow, bail, Context};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::Document;
use qrcode::{EcLevel, QrCode};
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};
use unipos_protocol::Language;

use crate::when::{date_time, when};
use time::UtcOffset;

#[cfg(test)]
mod pdf_tools;

/// What the sheet says.
#[derive(Debug, Clone, Copy)]
pub struct SheetFacts<'a> {
    /// The team's name, e.g. "Unipos Demo".
    pub team_name: &'a str,
    /// What the member types as "Team" when logging in, e.g. "demo".
    pub team_slug: &'a str,
    pub login_id: &'a str,
    /// Any Unicode, kanji included.
    pub display_name: &'a str,
    /// When the sheet was made, in Unix milliseconds.
    pub made_at_ms: i64,
    /// Until when the QR code works, in Unix milliseconds.
    pub expires_at_ms: i64,
    /// The reset link the QR code holds.
    pub link: &'a str,
    pub language: Language,
}

/// Where fonts with Latin and Japanese glyphs are usually installed, in order of preference. Each
/// is used at index 0, which is the Japanese face in the Noto Sans CJK collections.
const WELL_KNOWN_FONTS: &[&str] = &[
    // Debian, Ubuntu: fonts-noto-cjk.
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    // Fedora: google-noto-sans-cjk-fonts (older releases: google-noto-cjk).
    "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    // Arch: noto-fonts-cjk.
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    // Source Han Sans JP (Arch, Fedora).
    "/usr/share/fonts/adobe-source-han-sans/SourceHanSansJP-Regular.otf",
    "/usr/share/fonts/adobe-source-han-sans-jp/SourceHanSansJP-Regular.otf",
    // macOS: Hiragino Sans W3.
    "/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc",
];

/// What to do when no font was found or the one given is unusable.
const FONT_ADVICE: &str = "Install Noto Sans CJK (Debian/Ubuntu: apt-get install fonts-noto-cjk; \
    Fedora: dnf install google-noto-sans-cjk-fonts; Arch: pacman -S noto-fonts-cjk), or give a \
    TTF/OTF/TTC font with Latin and Japanese glyphs with --sheet-font PATH (PATH#N for the font at \
    index N of a collection)";

/// The font the sheet is set in: one font with Latin and Japanese glyphs, read on the first sheet
/// and kept (a CJK collection is about 19 MB).
pub struct SheetFont {
    path: PathBuf,
    index: u32,
    loaded: OnceLock<Loaded>,
}

struct Loaded {
    data: Arc<Vec<u8>>,
    index: u32,
    font: Font,
}

impl SheetFont {
    /// The font at `path`, a TTF, OTF or TTC file; of a collection (TTC) the font at index 0, or
    /// at index N when the path is given as `PATH#N` (and no file is named so). With `None`, the
    /// first that exists of the usual places of Noto Sans CJK and Source Han Sans on Linux and of
    /// Hiragino Sans on macOS.
    ///
    /// Only the file's header is read here; the whole font on the first [`render`]. An error says
    /// which font to install or to give with `--sheet-font`.
    pub fn locate(path: Option<&Path>) -> anyhow::Result<SheetFont> {
        let Some(given) = path else {
            let found = WELL_KNOWN_FONTS
                .iter()
                .map(Path::new)
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    anyhow!(
                        "No font for the Account Information sheet was found (looked for {}). \
                         {FONT_ADVICE}.",
                        WELL_KNOWN_FONTS.join(", ")
                    )
                })?;
            return SheetFont::checked(found.to_owned(), 0);
        };
        let (file, index) = match split_index(given) {
            Some((file, index)) if !given.exists() => (file, index),
            _ => (given.to_owned(), 0),
        };
        SheetFont::checked(file, index)
    }

    /// The font file (without any `#N`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The index of the font in its file (0 unless a collection's `#N` was given).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// A font whose header says it is an OpenType font or a collection with `index` in it.
    fn checked(path: PathBuf, index: u32) -> anyhow::Result<SheetFont> {
        let shown = path.display();
        let mut header = Vec::with_capacity(12);
        std::fs::File::open(&path)
            .and_then(|f| f.take(12).read_to_end(&mut header))
            .map_err(|e| anyhow!("The sheet font {shown} cannot be read ({e}). {FONT_ADVICE}."))?;
        if header.len() < 12 {
            bail!("{shown} is not a TTF, OTF or TTC font. {FONT_ADVICE}.");
        }
        match &header[..4] {
            b"ttcf" => {
                let fonts = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
                if index >= fonts {
                    bail!("The sheet font {shown} holds {fonts} fonts: there is no #{index}.");
                }
            }
            [0, 1, 0, 0] | b"OTTO" | b"true" if index == 0 => {}
            [0, 1, 0, 0] | b"OTTO" | b"true" => {
                bail!("The sheet font {shown} is not a collection: give it without #{index}.")
            }
            _ => bail!("{shown} is not a TTF, OTF or TTC font. {FONT_ADVICE}."),
        }
        Ok(SheetFont {
            path,
            index,
            loaded: OnceLock::new(),
        })
    }

    fn loaded(&self) -> anyhow::Result<&Loaded> {
        if let Some(loaded) = self.loaded.get() {
            return Ok(loaded);
        }
        let shown = self.path.display();
        let data = std::fs::read(&self.path)
            .map_err(|e| anyhow!("The sheet font {shown} cannot be read ({e}). {FONT_ADVICE}."))?;
        let data = Arc::new(data);
        let font = Font::new(data.clone().into(), self.index).ok_or_else(|| {
            anyhow!(
                "The sheet font {shown} (#{}) cannot be used. {FONT_ADVICE}.",
                self.index
            )
        })?;
        let loaded = Loaded {
            data,
            index: self.index,
            font,
        };
        let face = Face::new(&loaded)?;
        if let Some(c) = ['A', 'a', '1', 'ア', 'あ', '情', '報', '。']
            .into_iter()
            .find(|&c| face.charmap.map(c).is_none())
        {
            bail!(
                "The sheet font {shown} (#{}) has no glyph for {c:?}: the sheet needs Latin and \
                 Japanese glyphs. {FONT_ADVICE}.",
                self.index
            );
        }
        // Another sheet may have loaded it meanwhile: either copy will do.
        Ok(self.loaded.get_or_init(|| loaded))
    }
}

impl std::fmt::Debug for SheetFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SheetFont")
            .field("path", &self.path)
            .field("index", &self.index)
            .field("loaded", &self.loaded.get().is_some())
            .finish()
    }
}

/// `("/x/y.ttc", 2)` from `/x/y.ttc#2`.
fn split_index(path: &Path) -> Option<(PathBuf, u32)> {
    let (file, index) = path.to_str()?.rsplit_once('#')?;
    let index = index.parse().ok()?;
    (!file.is_empty()).then(|| (PathBuf::from(file), index))
}

/// The words of the sheet in one language. `{time}` and `{slug}` are filled in.
struct Words {
    /// A language tag.
    lang: &'static str,
    /// The PDF's title, which viewers show.
    doc_title: &'static str,
    title: &'static str,
    intro: &'static str,
    team: &'static str,
    slug_line: &'static str,
    login_id: &'static str,
    name: &'static str,
    issued: &'static str,
    valid_until: &'static str,
    steps_heading: &'static str,
    steps: [&'static str; 3],
    afterwards: &'static str,
    notes_heading: &'static str,
    notes: [&'static str; 3],
    bullet: &'static str,
    qr_caption: &'static str,
}

const EN: Words = Words {
    lang: "en",
    doc_title: "Unipos Account Information",
    title: "Account Information",
    intro: "Use this sheet to set the password of your Unipos account.",
    team: "Team",
    slug_line: "Type at login: {slug}",
    login_id: "Login ID",
    name: "Name",
    issued: "Issued",
    valid_until: "QR code valid until",
    steps_heading: "How to set your password",
    steps: [
        "Install the Unipos app on your smartphone (App Store or Google Play).",
        "Scan the QR code at the lower right with your smartphone's camera. You can also scan \
         it in the app: Log in > Login ID > \"Scan the QR code on your Account Information form\".",
        "Enter a new password twice and tap \"Set password and login\".",
    ],
    afterwards: "From then on, log in with your team, Login ID and the new password.",
    notes_heading: "Please note",
    notes: [
        "The QR code works once, until {time}.",
        "Keep this sheet to yourself: do not show it to others.",
        "If the QR code has expired or was already used, ask your company's Unipos admin for a \
         new Account Information sheet.",
    ],
    bullet: "•",
    qr_caption: "Scan with your smartphone",
};

const JA: Words = Words {
    lang: "ja",
    doc_title: "Uniposアカウント情報",
    title: "アカウント情報",
    intro: "この用紙で、Uniposアカウントのパスワードを設定します。",
    team: "チーム",
    slug_line: "ログイン時の入力：{slug}",
    login_id: "ログインID",
    name: "名前",
    issued: "発行日時",
    valid_until: "QRコードの有効期限",
    steps_heading: "パスワードの設定方法",
    steps: [
        "スマートフォンにUniposアプリをインストールしてください（App Store、Google Play）。",
        "右下のQRコードを、スマートフォンのカメラで読み取ってください。アプリの「ログイン」>\
         「ログインID」>「アカウント情報の用紙のQRコードを読み取る」からも読み取れます。",
        "新しいパスワードを2回入力し、「パスワードを設定してログイン」をタップしてください。",
    ],
    afterwards: "次回からは、チーム、ログインID、新しいパスワードでログインしてください。",
    notes_heading: "ご注意",
    notes: [
        "QRコードは{time}まで、1回だけ使えます。",
        "この用紙は他の人に見せず、ご自身で保管してください。",
        "QRコードが有効期限切れまたは使用済みの場合は、会社のUnipos管理者にアカウント情報の\
         再発行を依頼してください。",
    ],
    bullet: "・",
    qr_caption: "スマートフォンで読み取ってください",
};

fn words(language: Language) -> &'static Words {
    match language {
        Language::En => &EN,
        Language::Ja => &JA,
    }
}

/// Points from millimetres.
fn mm(v: f32) -> f32 {
    v * 72.0 / 25.4
}

const PAGE_W: f32 = 595.276; // A4, 210 mm
const PAGE_H: f32 = 841.89; // A4, 297 mm
const MARGIN: f32 = 56.693; // 20 mm
/// The QR symbol without its quiet zone: large modules scan easily even off a wrinkled printout.
const QR_SIZE: f32 = 127.559; // 45 mm
/// From the symbol's right and bottom edges to the page's, besides its quiet zone.
const QR_RIGHT: f32 = MARGIN;
const QR_BOTTOM: f32 = 73.7; // 26 mm, which leaves room for the caption below
/// Modules of white around the symbol, as the QR specification asks.
const QUIET_MODULES: usize = 4;

/// An sRGB colour.
#[derive(Debug, Clone, Copy)]
struct Ink(u8, u8, u8);

impl From<Ink> for krilla::paint::Paint {
    fn from(Ink(r, g, b): Ink) -> Self {
        rgb::Color::new(r, g, b).into()
    }
}

const INK: Ink = Ink(34, 34, 34);
const MUTED: Ink = Ink(96, 96, 96);
const ACCENT: Ink = Ink(255, 106, 61);
const RULE: Ink = Ink(190, 190, 190);
const SHADE: Ink = Ink(243, 243, 243);
const BLACK: Ink = Ink(0, 0, 0);

/// The sheet as a one-page A4 PDF.
pub fn render(facts: &SheetFacts<'_>, font: &SheetFont) -> anyhow::Result<Vec<u8>> {
    let face = Face::new(font.loaded()?)?;
    // Airy when the facts are short, as they usually are; closer when long names need the room.
    for spacing in [Spacing::LOOSE, Spacing::TIGHT] {
        if let Some(pdf) = render_spaced(facts, &face, &spacing)? {
            return Ok(pdf);
        }
    }
    bail!("the team name, Login ID and name are too long for one page")
}

/// The vertical room around the parts of the sheet, in points.
struct Spacing {
    /// Inside a table row, above and below its text.
    cell: f32,
    before_table: f32,
    before_steps: f32,
    between_steps: f32,
    before_afterwards: f32,
}

impl Spacing {
    const LOOSE: Spacing = Spacing {
        cell: 10.0,
        before_table: 14.0,
        before_steps: 42.0,
        between_steps: 9.0,
        before_afterwards: 12.0,
    };
    const TIGHT: Spacing = Spacing {
        cell: 6.0,
        before_table: 8.0,
        before_steps: 28.0,
        between_steps: 4.0,
        before_afterwards: 6.0,
    };
}

/// The sheet, or `None` when its text would run into the notes or the QR code.
fn render_spaced(
    facts: &SheetFacts<'_>,
    face: &Face<'_>,
    spacing: &Spacing,
) -> anyhow::Result<Option<Vec<u8>>> {
    let words = words(facts.language);
    let made = when(facts.made_at_ms, facts.language)?;
    let until = when(facts.expires_at_ms, facts.language)?;
    let qr = QrCode::with_error_correction_level(facts.link.as_bytes(), EcLevel::M)
        .map_err(|e| anyhow!("the link does not fit in a QR code: {e}"))?;

    let mut document = Document::new();
    let title = words.doc_title.to_owned();
    let made_utc = date_time(facts.made_at_ms, UtcOffset::UTC)?;
    document.set_metadata(
        Metadata::new()
            .title(title)
            .language(words.lang.to_owned())
            .creator("Unipos".to_owned())
            .creation_date(
                DateTime::new(made_utc.year().clamp(0, 9999) as u16)
                    .month(made_utc.month().into())
                    .day(made_utc.day())
                    .hour(made_utc.hour())
                    .minute(made_utc.minute())
                    .second(made_utc.second())
                    .utc_offset_hour(0)
                    .utc_offset_minute(0),
            ),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).context("the A4 page size")?;
    let mut page = document.start_page_with(settings);
    let mut surface = page.surface();
    let pen = Pen { face };
    let s = &mut surface;
    let content_w = PAGE_W - 2.0 * MARGIN;

    // Heading: the product, the form's name, a rule.
    let mut y = MARGIN + 4.0;
    pen.text(s, MARGIN, y, 14.0, ACCENT, true, "Unipos");
    y += 34.0;
    pen.text(s, MARGIN, y, 24.0, INK, true, words.title);
    y += 14.0;
    fill_rect(s, MARGIN, y, content_w, 1.5, ACCENT);
    y += 26.0;
    y = pen.paragraph(s, MARGIN, y, content_w, 10.5, 1.5, INK, words.intro);

    // The facts, as a table: labels on a shaded column.
    y += spacing.before_table;
    let slug_line = words.slug_line.replace("{slug}", facts.team_slug);
    let big = |text| Cell {
        text,
        size: 12.0,
        color: INK,
    };
    let small = |text, color| Cell {
        text,
        size: 10.5,
        color,
    };
    let rows = [
        (
            words.team,
            vec![big(facts.team_name), small(&slug_line, MUTED)],
        ),
        (words.login_id, vec![big(facts.login_id)]),
        (words.name, vec![big(facts.display_name)]),
        (words.issued, vec![small(&made, INK)]),
        (words.valid_until, vec![small(&until, INK)]),
    ];
    let label_w = mm(44.0);
    let pad = spacing.cell;
    let value_w = content_w - label_w - 2.0 * pad;
    let table_top = y;
    let mut row_bottoms = Vec::new();
    for (label, cells) in &rows {
        let laid: Vec<(Vec<&str>, &Cell)> = cells
            .iter()
            .map(|cell| (face.wrap(cell.text, cell.size, value_w), cell))
            .collect();
        let label_lines = face.wrap(label, 10.0, label_w - 2.0 * pad);
        let values_h: f32 = laid
            .iter()
            .map(|(lines, cell)| lines.len() as f32 * cell.size * 1.45)
            .sum();
        let labels_h = label_lines.len() as f32 * 10.0 * 1.45;
        let height = 2.0 * pad + values_h.max(labels_h);
        fill_rect(s, MARGIN, y, label_w, height, SHADE);
        // The label's first baseline on the value's.
        let first = y + pad + baseline(cells[0].size);
        for (i, line) in label_lines.iter().enumerate() {
            let base = first + i as f32 * 10.0 * 1.45;
            pen.text(s, MARGIN + pad, base, 10.0, MUTED, false, line);
        }
        let mut line_top = y + pad;
        for (lines, cell) in &laid {
            for line in lines {
                let base = line_top + baseline(cell.size);
                pen.text(
                    s,
                    MARGIN + label_w + pad,
                    base,
                    cell.size,
                    cell.color,
                    false,
                    line,
                );
                line_top += cell.size * 1.45;
            }
        }
        y += height;
        row_bottoms.push(y);
    }
    // The rules over the shading.
    hline(s, MARGIN, table_top, content_w, 0.6, RULE);
    for &bottom in &row_bottoms {
        hline(s, MARGIN, bottom, content_w, 0.6, RULE);
    }
    for x in [MARGIN, MARGIN + label_w, MARGIN + content_w] {
        vline(s, x, table_top, y - table_top, 0.6, RULE);
    }

    // The steps, numbered, with a hanging indent.
    y += spacing.before_steps;
    pen.text(s, MARGIN, y, 13.0, INK, true, words.steps_heading);
    y += 10.0;
    let indent = 20.0;
    for (n, step) in words.steps.iter().enumerate() {
        y += spacing.between_steps;
        let number = format!("{}.", n + 1);
        let first = y + baseline(11.0);
        pen.text(s, MARGIN + 2.0, first, 11.0, ACCENT, true, &number);
        y = pen.paragraph(
            s,
            MARGIN + indent,
            y,
            content_w - indent,
            11.0,
            1.55,
            INK,
            step,
        );
    }
    y += spacing.before_afterwards;
    let flow_bottom = pen.paragraph(s, MARGIN, y, content_w, 11.0, 1.55, INK, words.afterwards);

    // The QR code in the lower right corner, its caption below it.
    let module = QR_SIZE / qr.width() as f32;
    let quiet = module * QUIET_MODULES as f32;
    let qr_x = PAGE_W - QR_RIGHT - QR_SIZE;
    let qr_y = PAGE_H - QR_BOTTOM - QR_SIZE;
    draw_qr(s, &qr, qr_x, qr_y, module);
    let caption_w = face.width(words.qr_caption, 9.5);
    let caption_x = (qr_x + (QR_SIZE - caption_w) / 2.0).min(PAGE_W - MARGIN - caption_w);
    let caption_y = qr_y + QR_SIZE + quiet + 12.0;
    pen.text(s, caption_x, caption_y, 9.5, MUTED, false, words.qr_caption);

    // The notes in a shaded box left of the QR code, level with its bottom.
    let box_w = qr_x - quiet - mm(6.0) - MARGIN;
    let inner = box_w - 2.0 * 12.0;
    let notes: Vec<String> = words
        .notes
        .iter()
        .map(|n| n.replace("{time}", &until))
        .collect();
    let bullet_w = face.width(words.bullet, 10.0) + 3.0;
    let note_lines: Vec<Vec<&str>> = notes
        .iter()
        .map(|note| face.wrap(note, 10.0, inner - bullet_w))
        .collect();
    let line_h = 10.0 * 1.55;
    let box_h = 12.0
        + 11.0 * 1.5
        + 4.0
        + note_lines
            .iter()
            .map(|l| l.len() as f32 * line_h + 4.0)
            .sum::<f32>()
        + 8.0;
    let box_y = qr_y + QR_SIZE - box_h;
    if flow_bottom + 16.0 > box_y.min(qr_y - quiet) {
        return Ok(None);
    }
    fill_rect(s, MARGIN, box_y, box_w, box_h, SHADE);
    fill_rect(s, MARGIN, box_y, 3.0, box_h, ACCENT);
    let mut ny = box_y + 12.0;
    pen.text(
        s,
        MARGIN + 12.0,
        ny + baseline(11.0),
        11.0,
        INK,
        true,
        words.notes_heading,
    );
    ny += 11.0 * 1.5 + 4.0;
    for lines in &note_lines {
        pen.text(
            s,
            MARGIN + 12.0,
            ny + baseline_in(10.0, line_h),
            10.0,
            INK,
            false,
            words.bullet,
        );
        for line in lines {
            let base = ny + baseline_in(10.0, line_h);
            pen.text(s, MARGIN + 12.0 + bullet_w, base, 10.0, INK, false, line);
            ny += line_h;
        }
        ny += 4.0;
    }

    surface.finish();
    page.finish();
    let pdf = document
        .finish()
        .map_err(|e| anyhow!("writing the Account Information PDF: {e}"))?;
    Ok(Some(pdf))
}

/// A value in the table, in lines of one size and colour.
struct Cell<'t> {
    text: &'t str,
    size: f32,
    color: Ink,
}

/// The baseline of a line of `size` set in a line box of 1.45 × `size`, from the box's top.
fn baseline(size: f32) -> f32 {
    baseline_in(size, size * 1.45)
}

/// The baseline of text of `size` centred in a line box `line_h` high: CJK glyphs sit in a box
/// from 0.88 em above the baseline to 0.12 em below it.
fn baseline_in(size: f32, line_h: f32) -> f32 {
    (line_h - size) / 2.0 + 0.88 * size
}

fn fill(color: Ink) -> Fill {
    Fill {
        paint: color.into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn fill_rect(s: &mut Surface<'_>, x: f32, y: f32, w: f32, h: f32, color: Ink) {
    let Some(rect) = Rect::from_xywh(x, y, w, h) else {
        return;
    };
    let mut path = PathBuilder::new();
    path.push_rect(rect);
    if let Some(path) = path.finish() {
        s.set_fill(Some(fill(color)));
        s.set_stroke(None);
        s.draw_path(&path);
    }
}

fn hline(s: &mut Surface<'_>, x: f32, y: f32, w: f32, width: f32, color: Ink) {
    fill_rect(s, x, y - width / 2.0, w, width, color);
}

fn vline(s: &mut Surface<'_>, x: f32, y: f32, h: f32, width: f32, color: Ink) {
    fill_rect(s, x - width / 2.0, y, width, h, color);
}

/// The dark modules, each row's runs as one rectangle, all in one path (no seams between them).
fn draw_qr(s: &mut Surface<'_>, qr: &QrCode, x: f32, y: f32, module: f32) {
    let n = qr.width();
    let mut path = PathBuilder::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if qr[(col, row)] == qrcode::Color::Dark {
                let start = col;
                while col < n && qr[(col, row)] == qrcode::Color::Dark {
                    col += 1;
                }
                let (rx, ry) = (x + start as f32 * module, y + row as f32 * module);
                if let Some(rect) = Rect::from_xywh(rx, ry, (col - start) as f32 * module, module) {
                    path.push_rect(rect);
                }
            } else {
                col += 1;
            }
        }
    }
    if let Some(path) = path.finish() {
        s.set_fill(Some(fill(BLACK)));
        s.set_stroke(None);
        s.draw_path(&path);
    }
}

/// The sheet's font, read for glyphs and their widths.
struct Face<'a> {
    font: Font,
    charmap: Charmap<'a>,
    metrics: GlyphMetrics<'a>,
    units_per_em: f32,
}

impl<'a> Face<'a> {
    fn new(loaded: &'a Loaded) -> anyhow::Result<Face<'a>> {
        let font_ref = FontRef::from_index(&loaded.data, loaded.index)
            .map_err(|e| anyhow!("reading the sheet font: {e}"))?;
        Ok(Face {
            font: loaded.font.clone(),
            charmap: font_ref.charmap(),
            metrics: font_ref.glyph_metrics(Size::unscaled(), LocationRef::default()),
            units_per_em: loaded.font.units_per_em(),
        })
    }

    /// The glyph of `c` (the font's "missing" box if it has none) and its advance in ems.
    fn glyph(&self, c: char) -> (GlyphId, f32) {
        let id = self.charmap.map(c).unwrap_or(skrifa::GlyphId::NOTDEF);
        let advance = self.metrics.advance_width(id).unwrap_or(0.0) / self.units_per_em;
        (GlyphId::new(id.to_u32()), advance)
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }

    fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .map(|(i, c)| {
                let (id, advance) = self.glyph(c);
                KrillaGlyph::new(id, advance, 0.0, 0.0, 0.0, i..i + c.len_utf8(), None)
            })
            .collect()
    }

    /// `text` in lines no wider than `max`: broken after spaces, and between Japanese
    /// characters except before closing punctuation or after opening brackets; a word wider than
    /// a line is cut where it must.
    fn wrap<'t>(&self, text: &'t str, size: f32, max: f32) -> Vec<&'t str> {
        let mut lines = Vec::new();
        let fits = |s: &str| self.width(s.trim_end(), size) <= max;
        let mut start = 0;
        let mut end = 0; // of what is known to fit
        for unit in break_units(text) {
            if end > start && !fits(&text[start..unit.end]) {
                lines.push(text[start..end].trim_end());
                start = unit.start;
            }
            while !fits(&text[start..unit.end]) {
                // Cut by characters: at least one per line.
                let cut = text[start..unit.end]
                    .char_indices()
                    .skip(1)
                    .map(|(i, _)| start + i)
                    .take_while(|&i| fits(&text[start..i]))
                    .last()
                    .unwrap_or_else(|| {
                        start + text[start..].chars().next().map_or(1, char::len_utf8)
                    });
                lines.push(&text[start..cut]);
                start = cut;
            }
            end = unit.end;
        }
        if start < text.len() || lines.is_empty() {
            lines.push(text[start..].trim_end());
        }
        lines
    }
}

/// Pieces of text between which a line may break.
fn break_units(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut units = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        if let Some(p) = prev {
            if may_break_between(p, c) {
                units.push(start..i);
                start = i;
            }
        }
        prev = Some(c);
    }
    if start < text.len() {
        units.push(start..text.len());
    }
    units
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{2E80}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{FF00}'..='\u{FFEF}' | '\u{20000}'..='\u{3FFFF}')
}

/// Japanese line-breaking rules (kinsoku), in short.
fn may_break_between(before: char, after: char) -> bool {
    const NO_LINE_START: &str = "、。，．・：；？！）」』】〕〉》ー…ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々)]},.:;!?";
    const NO_LINE_END: &str = "「『（【〔〈《([{";
    if before == ' ' {
        return after != ' ';
    }
    if after == ' ' {
        return false;
    }
    (is_cjk(before) || is_cjk(after))
        && !NO_LINE_START.contains(after)
        && !NO_LINE_END.contains(before)
}

/// Draws text with the sheet's font.
struct Pen<'f> {
    face: &'f Face<'f>,
}

impl Pen<'_> {
    /// One line, its baseline starting at (`x`, `y`). Bold is the glyphs' outline stroked as well
    /// as filled: the one font has one weight.
    #[allow(clippy::too_many_arguments)]
    fn text(
        &self,
        s: &mut Surface<'_>,
        x: f32,
        y: f32,
        size: f32,
        color: Ink,
        bold: bool,
        text: &str,
    ) {
        if text.is_empty() {
            return;
        }
        s.set_fill(Some(fill(color)));
        s.set_stroke(bold.then(|| Stroke {
            paint: color.into(),
            width: size * 0.04,
            ..Stroke::default()
        }));
        let glyphs = self.face.glyphs(text);
        s.draw_glyphs(
            Point::from_xy(x, y),
            &glyphs,
            self.face.font.clone(),
            text,
            size,
            false,
        );
        s.set_stroke(None);
    }

    /// `text` wrapped to `width`, its first line box's top at `top`; returns the bottom of the
    /// last line box.
    #[allow(clippy::too_many_arguments)]
    fn paragraph(
        &self,
        s: &mut Surface<'_>,
        x: f32,
        top: f32,
        width: f32,
        size: f32,
        leading: f32,
        color: Ink,
        text: &str,
    ) -> f32 {
        let line_h = size * leading;
        let mut y = top;
        for line in self.face.wrap(text, size, width) {
            self.text(
                s,
                x,
                y + baseline_in(size, line_h),
                size,
                color,
                false,
                line,
            );
            y += line_h;
        }
        y
    }
}

#[cfg(test)]
mod tests {
    use super::pdf_tools::{self, Quarter};
    use super::*;

    /// 2026-12-02T07:49:30Z, and a week later.
    const MADE_MS: i64 = 1_796_197_770_000;
    const EXPIRES_MS: i64 = 1_796_802_570_000;
    const LINK: &str =
        "http://127.0.0.1:8787/reset_password?token=Fj_XlsDTB_1q3_6nO20zw89pVGB5wr8nz1jzPTHW7NM";

    /// The installed font, read once for every test.
    fn font() -> &'static SheetFont {
        static FONT: OnceLock<SheetFont> = OnceLock::new();
        FONT.get_or_init(|| {
            SheetFont::locate(None).unwrap_or_else(|e| panic!("{e} (scripts/setup.sh installs it)"))
        })
    }

    fn facts(language: Language) -> SheetFacts<'static> {
        SheetFacts {
            team_name: "Unipos Demo",
            team_slug: "demo",
            login_id: "jiro",
            display_name: "鈴木 次郎",
            made_at_ms: MADE_MS,
            expires_at_ms: EXPIRES_MS,
            link: LINK,
            language,
        }
    }

    fn sheet(language: Language) -> Vec<u8> {
        render(&facts(language), font()).expect("the sheet renders")
    }

    /// Lines joined again: Japanese has no spaces between words, English has one.
    fn unwrapped(text: &str, language: Language) -> String {
        let join = if language == Language::Ja { "" } else { " " };
        text.lines().collect::<Vec<_>>().join(join)
    }

    #[test]
    fn the_link_is_the_one_qr_code_and_it_is_in_the_lower_right_quarter() {
        let token = LINK.rsplit_once("token=").unwrap().1;
        assert_eq!(token.len(), 43);
        for language in [Language::En, Language::Ja] {
            let png = pdf_tools::render_page_png(&sheet(language), 150);
            let (w, h) = png.size();
            assert!(
                w.abs_diff(1240) <= 1 && h.abs_diff(1754) <= 1,
                "A4 at 150 dpi: {w}×{h}"
            );
            // The whole page: one code, wherever a second one would be.
            let all = pdf_tools::decode_qr(png.path());
            assert_eq!(all.as_deref(), Some(LINK), "{language:?}");
            for quarter in Quarter::ALL {
                let found = pdf_tools::decode_qr_in_quarter(&png, quarter);
                if quarter == Quarter::LowerRight {
                    assert_eq!(found.as_deref(), Some(LINK), "{language:?}");
                } else {
                    assert_eq!(
                        found, None,
                        "{language:?}: a QR code in the {quarter:?} quarter"
                    );
                }
            }
        }
    }

    #[test]
    fn the_japanese_sheet_s_text_is_japanese_and_can_be_extracted() {
        let text = pdf_tools::pdf_text(&sheet(Language::Ja));
        let joined = unwrapped(&text, Language::Ja);
        for expected in [
            "アカウント情報",
            "鈴木 次郎",
            "jiro",
            "Unipos Demo",
            "ログイン時の入力：demo",
            "「パスワードを設定してログイン」",
            "2026年12月2日 16:49（日本時間）",
            "2026年12月9日 16:49（日本時間）まで、1回だけ使えます。",
            "会社のUnipos管理者",
            "スマートフォンで読み取ってください",
        ] {
            assert!(
                joined.contains(expected),
                "{expected} is missing from:\n{text}"
            );
        }
        for english in ["Account Information", "Set password and login", "UTC"] {
            assert!(
                !text.contains(english),
                "{english} on the Japanese sheet:\n{text}"
            );
        }
    }

    #[test]
    fn the_english_sheet_s_text_is_english_and_can_be_extracted() {
        let text = pdf_tools::pdf_text(&sheet(Language::En));
        let joined = unwrapped(&text, Language::En);
        for expected in [
            "Account Information",
            "\"Set password and login\"",
            "鈴木 次郎",
            "jiro",
            "Type at login: demo",
            "2 December 2026, 07:49 UTC",
            "until 9 December 2026, 07:49 UTC.",
            "Scan with your smartphone",
        ] {
            assert!(
                joined.contains(expected),
                "{expected} is missing from:\n{text}"
            );
        }
        for japanese in ["アカウント情報", "日本時間", "。"] {
            assert!(
                !text.contains(japanese),
                "{japanese} on the English sheet:\n{text}"
            );
        }
    }

    #[test]
    fn the_japanese_sheet_embeds_only_a_subset_of_its_font_with_a_unicode_map() {
        let pdf = sheet(Language::Ja);
        let font_size = std::fs::metadata(font().path()).unwrap().len();
        assert!(
            pdf.len() < 1_000_000 && (pdf.len() as u64) * 20 < font_size,
            "a {} byte PDF from a {font_size} byte font",
            pdf.len()
        );
        let table = pdf_tools::pdf_fonts(&pdf);
        let rows: Vec<&str> = table.lines().skip(2).collect();
        assert!(!rows.is_empty(), "no fonts:\n{table}");
        for row in rows {
            // name type [type] encoding emb sub uni object ID: the flags count from the end.
            let cols: Vec<&str> = row.split_whitespace().collect();
            let flags = &cols[cols.len() - 5..cols.len() - 2];
            assert_eq!(flags, ["yes", "yes", "yes"], "emb, sub, uni:\n{table}");
        }
    }

    #[test]
    fn lines_break_at_spaces_and_between_japanese_characters_but_never_before_closing_marks() {
        let face = Face::new(font().loaded().unwrap()).unwrap();
        let en = "Enter a new password twice and tap \"Set password and login\".";
        for line in face.wrap(en, 11.0, 150.0) {
            assert!(face.width(line, 11.0) <= 150.0, "{line}");
            assert!(!line.starts_with(' ') && !line.ends_with(' '), "{line:?}");
        }
        assert_eq!(face.wrap(en, 11.0, 150.0).join(" "), en);
        // Eight characters a line: 「ログイン」 would leave 」 or 。 at a line's start.
        let ja = "アプリの「ログイン」から読み取れます。";
        let lines = face.wrap(ja, 10.0, 80.0);
        assert_eq!(lines.concat(), ja);
        for line in &lines {
            assert!(face.width(line, 10.0) <= 80.0, "{line}");
            assert!(!line.starts_with(['」', '。', '、']), "{lines:?}");
            assert!(!line.ends_with('「'), "{lines:?}");
        }
        // A Login ID longer than a line is cut, not lost.
        let long = "x".repeat(200);
        assert_eq!(face.wrap(&long, 12.0, 100.0).concat(), long);
    }

    #[test]
    fn long_names_ids_and_links_still_fit_on_the_page() {
        let name =
            "寿限無寿限無五劫の擦り切れ海砂利水魚の水行末雲来末風来末食う寝る処に住む処 Jugemu";
        let long = "a-very-long-login-id-that-nobody-would-choose-but-someone-might-1234";
        // The longest links the server makes are about 170 characters.
        let longest_link = format!("{LINK}{}", "x".repeat(85));
        for language in [Language::En, Language::Ja] {
            let facts = SheetFacts {
                team_name:
                    "株式会社ユニポス・デモンストレーション・アンド・テスティング事業本部 Demo",
                team_slug: long,
                login_id: long,
                display_name: name,
                link: &longest_link,
                ..facts(language)
            };
            let pdf = render(&facts, font()).expect("the sheet renders");
            let png = pdf_tools::render_page_png(&pdf, 150);
            let found = pdf_tools::decode_qr_in_quarter(&png, Quarter::LowerRight);
            assert_eq!(
                found.as_deref(),
                Some(longest_link.as_str()),
                "{language:?}"
            );
            // Wrapped in the table, so compared without the spaces and line breaks.
            let text = pdf_tools::pdf_text(&pdf);
            let squeezed = |s: &str| s.split_whitespace().collect::<String>();
            for value in [name, long, facts.team_name] {
                assert!(
                    squeezed(&text).contains(&squeezed(value)),
                    "{value}:\n{text}"
                );
            }
        }
    }

    #[test]
    fn the_japanese_words_use_full_width_punctuation_and_no_spaces_beside_japanese() {
        let ja = [
            JA.doc_title,
            JA.title,
            JA.intro,
            JA.team,
            JA.slug_line,
            JA.login_id,
            JA.name,
            JA.issued,
            JA.valid_until,
            JA.steps_heading,
            JA.afterwards,
            JA.notes_heading,
            JA.qr_caption,
        ]
        .into_iter()
        .chain(JA.steps)
        .chain(JA.notes);
        for text in ja {
            // Latin names inside keep their spaces ("App Store", "Google Play").
            let chars: Vec<char> = text.chars().collect();
            for w in chars.windows(2) {
                let space_beside = (w[0] == ' ' && is_cjk(w[1])) || (is_cjk(w[0]) && w[1] == ' ');
                assert!(!space_beside, "a space beside Japanese in {text}");
            }
            assert!(
                !text.contains([',', '.', ':', '(', ')', '!', '?', '"', '\u{3000}']),
                "half-width punctuation in {text}"
            );
        }
        assert!(JA.steps[2].contains("「パスワードを設定してログイン」"));
        assert!(EN.steps[2].contains("\"Set password and login\""));
    }

    #[test]
    fn fonts_are_found_by_path_with_an_index_or_the_error_says_what_to_do() {
        let path = font().path().to_owned();
        let given = SheetFont::locate(Some(&path)).unwrap();
        assert_eq!((given.path(), given.index()), (path.as_path(), 0));
        if path.extension().is_some_and(|e| e == "ttc") {
            let second = PathBuf::from(format!("{}#1", path.display()));
            assert_eq!(SheetFont::locate(Some(&second)).unwrap().index(), 1);
            let beyond = PathBuf::from(format!("{}#99", path.display()));
            let e = SheetFont::locate(Some(&beyond)).unwrap_err().to_string();
            assert!(e.contains("no #99"), "{e}");
        }
        let missing = SheetFont::locate(Some(Path::new("/nonexistent/font.ttc")))
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("--sheet-font") && missing.contains("fonts-noto-cjk"),
            "{missing}"
        );
        let text = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(text.path(), "Not a font, but a text of some length.").unwrap();
        let not_a_font = SheetFont::locate(Some(text.path()))
            .unwrap_err()
            .to_string();
        assert!(not_a_font.contains("not a TTF, OTF or TTC"), "{not_a_font}");
    }

    #[test]
    fn a_font_without_japanese_glyphs_is_refused_when_first_used() {
        let latin = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.is_file());
        let Some(latin) = latin else {
            return; // no Latin-only font here to try
        };
        let font = SheetFont::locate(Some(latin)).unwrap();
        let e = render(&facts(Language::En), &font).unwrap_err().to_string();
        assert!(e.contains("Japanese glyphs"), "{e}");
    }

    #[test]
    fn a_sheet_font_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<SheetFont>();
    }
}

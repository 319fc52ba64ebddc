//! Looking at a PDF from outside, as a reader would: page pixels (poppler's `pdftoppm`), QR codes
//! in them (ImageMagick's `convert` to cut, zbar's `zbarimg` to read), the text and the fonts
//! (`pdftotext`, `pdffonts`). Only std and tempfile, so that other tests can include this file
//! with `#[path]`. A missing tool panics with the Debian package that has it.

#![allow(dead_code)] // each includer uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A PNG file that is deleted with this value.
pub struct TempPng {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl TempPng {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Width and height in pixels, from the PNG header.
    pub fn size(&self) -> (u32, u32) {
        let bytes = std::fs::read(&self.path).expect("reading the PNG");
        assert!(
            bytes.len() >= 24 && &bytes[..8] == b"\x89PNG\r\n\x1a\n" && &bytes[12..16] == b"IHDR",
            "{} is not a PNG",
            self.path.display()
        );
        let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        (be(16), be(20))
    }
}

/// A quarter of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quarter {
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
}

impl Quarter {
    pub const ALL: [Quarter; 4] = [
        Quarter::UpperLeft,
        Quarter::UpperRight,
        Quarter::LowerLeft,
        Quarter::LowerRight,
    ];
}

/// Runs `program`; panics naming `package` if it is not installed.
fn run(program: &str, package: &str, command: &mut Command) -> Output {
    match command.output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "{program} is not installed: apt-get install {package} (scripts/setup.sh installs it)"
        ),
        Err(e) => panic!("running {program}: {e}"),
    }
}

fn succeeded(program: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{program} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `pdf` in a temporary file.
fn pdf_file(pdf: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new()
        .suffix(".pdf")
        .tempfile()
        .expect("a temporary file");
    std::fs::write(file.path(), pdf).expect("writing the PDF");
    file
}

/// The first page of `pdf` as a PNG, at `dpi` pixels per inch.
pub fn render_page_png(pdf: &[u8], dpi: u32) -> TempPng {
    let input = pdf_file(pdf);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let stem = dir.path().join("page");
    let output = run(
        "pdftoppm",
        "poppler-utils",
        Command::new("pdftoppm")
            .args([
                "-r",
                &dpi.to_string(),
                "-png",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
            ])
            .arg(input.path())
            .arg(&stem),
    );
    succeeded("pdftoppm", &output);
    let path = stem.with_extension("png");
    assert!(path.is_file(), "pdftoppm made no {}", path.display());
    TempPng { _dir: dir, path }
}

/// The QR codes zbar reads in one quarter of `png`, one per line (`None`: none).
pub fn decode_qr_in_quarter(png: &TempPng, quarter: Quarter) -> Option<String> {
    let (width, height) = png.size();
    let (w, h) = (width / 2, height / 2);
    let (x, y) = match quarter {
        Quarter::UpperLeft => (0, 0),
        Quarter::UpperRight => (width - w, 0),
        Quarter::LowerLeft => (0, height - h),
        Quarter::LowerRight => (width - w, height - h),
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let cut = dir.path().join("quarter.png");
    let output = run(
        "convert",
        "imagemagick",
        Command::new("convert")
            .arg(png.path())
            .args(["-crop", &format!("{w}x{h}+{x}+{y}"), "+repage"])
            .arg(&cut),
    );
    succeeded("convert", &output);
    decode_qr(&cut)
}

/// The QR codes zbar reads in an image file, one per line (`None`: none).
pub fn decode_qr(image: &Path) -> Option<String> {
    let output = run(
        "zbarimg",
        "zbar-tools",
        Command::new("zbarimg")
            .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
            .arg(image),
    );
    // zbarimg exits with 4 when it found no symbol.
    if output.status.code() == Some(4) {
        return None;
    }
    succeeded("zbarimg", &output);
    let text = String::from_utf8(output.stdout).expect("zbarimg printed UTF-8");
    Some(text.strip_suffix('\n').unwrap_or(&text).to_owned())
}

/// The text of `pdf`, as `pdftotext` extracts it (UTF-8, in reading order).
pub fn pdf_text(pdf: &[u8]) -> String {
    let input = pdf_file(pdf);
    let output = run(
        "pdftotext",
        "poppler-utils",
        Command::new("pdftotext")
            .args(["-enc", "UTF-8"])
            .arg(input.path())
            .arg("-"),
    );
    succeeded("pdftotext", &output);
    String::from_utf8(output.stdout).expect("pdftotext printed UTF-8")
}

/// `pdffonts`' table of the fonts in `pdf`: name, type, encoding, emb, sub, uni, object ID.
pub fn pdf_fonts(pdf: &[u8]) -> String {
    let input = pdf_file(pdf);
    let output = run(
        "pdffonts",
        "poppler-utils",
        Command::new("pdffonts").arg(input.path()),
    );
    succeeded("pdffonts", &output);
    String::from_utf8(output.stdout).expect("pdffonts printed UTF-8")
}

//! The programs ffmcp servers may run, with the exact arguments each may
//! receive. Adding a program here is a security review: list only flags
//! whose effect is understood, never one that names a file to write outside
//! the per-call directory or loads code.

use std::time::Duration;

use super::{ExecLimits, ProgramSpec, ResourceLimits};

/// poppler's `pdftotext`: `pdftotext [flags] [-f N -l N] INPUT.pdf -`.
pub fn pdftotext() -> ProgramSpec {
    ProgramSpec::new("pdftotext")
        .flags([
            "-layout",
            "-raw",
            "-nopgbrk",
            "-nodiag",
            "-cropbox",
            "-bbox-layout",
            "-q",
        ])
        .options(["-f", "-l", "-enc", "-eol", "-upw", "-opw"])
        .tokens(["-"])
        .limits(ExecLimits {
            wall: Duration::from_secs(120),
            resources: ResourceLimits {
                cpu_secs: 120,
                address_space_bytes: 2 << 30,
                file_size_bytes: 64 << 20,
                open_files: 64,
                processes: 16,
            },
            ..ExecLimits::default()
        })
}

/// `tesseract INPUT stdout [-l LANGS] [--psm N] [--oem N] [--dpi N] [txt|hocr|tsv]`.
pub fn tesseract() -> ProgramSpec {
    ProgramSpec::new("tesseract")
        .options(["-l", "--psm", "--oem", "--dpi"])
        .tokens(["stdout", "txt", "hocr", "tsv"])
        .env(["TESSDATA_PREFIX", "OMP_THREAD_LIMIT"])
        .limits(ExecLimits {
            wall: Duration::from_secs(300),
            resources: ResourceLimits {
                cpu_secs: 300,
                address_space_bytes: 4 << 30,
                file_size_bytes: 64 << 20,
                open_files: 128,
                processes: 16,
            },
            ..ExecLimits::default()
        })
}

/// poppler's `pdftoppm`, to render one page for OCR:
/// `pdftoppm -png -singlefile -r DPI -f N -l N INPUT.pdf OUTPUT-PREFIX`.
pub fn pdftoppm() -> ProgramSpec {
    ProgramSpec::new("pdftoppm")
        .flags(["-png", "-singlefile", "-gray", "-q"])
        .options(["-r", "-f", "-l", "-scale-to", "-upw", "-opw"])
        .limits(ExecLimits {
            wall: Duration::from_secs(60),
            resources: ResourceLimits {
                cpu_secs: 60,
                address_space_bytes: 2 << 30,
                file_size_bytes: 256 << 20,
                open_files: 64,
                processes: 16,
            },
            ..ExecLimits::default()
        })
}

/// Every program any ffmcp server may run.
pub fn all() -> Vec<ProgramSpec> {
    vec![pdftotext(), pdftoppm(), tesseract()]
}

//! A pre-flight scan of legacy Excel files (BIFF records in a CFB
//! container) before calamine reads them. calamine sizes each sheet's grid
//! from the DIMENSIONS record and from the extreme cell positions, so one
//! damaged record can ask for tens of gigabytes (an allocation failure
//! aborts the process; it cannot be caught). This scan walks the container
//! and the records itself, bounded by the file, and refuses a sheet whose
//! grid would exceed the cell limit.

use crate::DocError;

const FORMAT: &str = "xls";
const FREE: u32 = 0xFFFF_FFFF;
const END: u32 = 0xFFFF_FFFE;

/// Refuses an XLS whose container is inconsistent (sector chains that
/// loop or leave the file, which calamine would follow without end) or
/// whose sheets would span more than `max_cells` cells.
pub fn check(bytes: &[u8], max_cells: u64) -> Result<(), DocError> {
    let stream = workbook_stream(bytes).map_err(|reason| match reason {
        Refusal::Encrypted => DocError::Encrypted(
            "the file is a password-protected Office document (an encrypted package); remove the password first".into(),
        ),
        Refusal::NotExcel => DocError::malformed(
            FORMAT,
            "the compound file has no Workbook stream: not an Excel 97-2003 workbook (legacy .doc and .ppt are not supported)",
        ),
        Refusal::Damaged(reason) => {
            DocError::malformed(FORMAT, format!("damaged container: {reason}"))
        }
    })?;
    scan_records(&stream, max_cells)
}

/// Bounding box of the cells in one sheet substream.
#[derive(Default)]
struct Extent {
    rows: Option<(u32, u32)>,
    cols: Option<(u32, u32)>,
}

impl Extent {
    fn add(&mut self, row: u32, col: u32) {
        let grow = |range: &mut Option<(u32, u32)>, v: u32| {
            *range = Some(match *range {
                Some((lo, hi)) => (lo.min(v), hi.max(v)),
                None => (v, v),
            });
        };
        grow(&mut self.rows, row);
        grow(&mut self.cols, col);
    }

    fn cells(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => {
                u64::from(r1 - r0 + 1).saturating_mul(u64::from(c1 - c0 + 1))
            }
            _ => 0,
        }
    }
}

fn too_big(substream: usize, cells: u64, max_cells: u64) -> DocError {
    let sheet = substream.saturating_sub(1);
    DocError::Limit(format!(
        "XLS sheet {sheet} spans {cells} cells; the limit is {max_cells} (XLS sheets cannot be read in part; convert the file to XLSX)"
    ))
}

fn u16_at(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..at + 2)
        .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Walks BIFF records, checking DIMENSIONS and cell extents per sheet.
fn scan_records(stream: &[u8], max_cells: u64) -> Result<(), DocError> {
    let mut at = 0usize;
    let mut depth = 0u32;
    // Substreams seen: the first is the workbook globals.
    let mut sheet = 0usize;
    let mut extent = Extent::default();
    while let (Some(kind), Some(len)) = (u16_at(stream, at), u16_at(stream, at + 2)) {
        let start = at + 4;
        let end = (start + len as usize).min(stream.len());
        let data = &stream[start.min(end)..end];
        at = start + len as usize;
        match kind {
            0x0809 => {
                // The first substream is the workbook globals: sheet 0.
                if depth == 0 {
                    sheet += 1;
                    extent = Extent::default();
                }
                depth += 1;
            }
            0x000A => {
                depth = depth.saturating_sub(1);
                if depth == 0 && extent.cells() > max_cells {
                    return Err(too_big(sheet, extent.cells(), max_cells));
                }
            }
            0x0200 => {
                let (rf, rl, cf, cl) = match data.len() {
                    10 => (
                        u16_at(data, 0),
                        u16_at(data, 2),
                        u16_at(data, 4),
                        u16_at(data, 6),
                    ),
                    14 | 16 => (
                        u32_at(data, 0),
                        u32_at(data, 4),
                        u16_at(data, 8),
                        u16_at(data, 10),
                    ),
                    _ => (None, None, None, None),
                };
                if let (Some(rf), Some(rl), Some(cf), Some(cl)) = (rf, rl, cf, cl) {
                    let cf = if cf > 0xFF || cl < cf { 0 } else { cf };
                    let rows = u64::from(rl.saturating_sub(rf)) + 1;
                    let cols = u64::from(cl.saturating_sub(cf)) + 1;
                    // calamine computes `rl - 1 - rf + 1` unchecked: a
                    // last row before the first is malformed.
                    if rl < rf && rl >= 1 {
                        return Err(DocError::malformed(
                            FORMAT,
                            format!(
                                "sheet {} has an inverted DIMENSIONS record",
                                sheet.saturating_sub(1)
                            ),
                        ));
                    }
                    if rows.saturating_mul(cols) > max_cells {
                        return Err(too_big(sheet, rows.saturating_mul(cols), max_cells));
                    }
                }
            }
            // NUMBER, LABEL, RSTRING, BOOLERR, FORMULA, RK, LABELSST
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x0006 | 0x027E | 0x00FD => {
                if let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) {
                    extent.add(row, col);
                }
            }
            // MULRK: row, first column, ..., last column.
            0x00BD => {
                if let (Some(row), Some(first), Some(last)) = (
                    u16_at(data, 0),
                    u16_at(data, 2),
                    data.len().checked_sub(2).and_then(|i| u16_at(data, i)),
                ) {
                    extent.add(row, first);
                    extent.add(row, last.max(first));
                }
            }
            _ => {}
        }
    }
    if extent.cells() > max_cells {
        return Err(too_big(sheet, extent.cells(), max_cells));
    }
    Ok(())
}

/// Why [`workbook_stream`] found nothing to read.
enum Refusal {
    Encrypted,
    NotExcel,
    Damaged(String),
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Self {
        Refusal::Damaged(reason.to_owned())
    }
}

/// The `Workbook` (BIFF8) or `Book` (BIFF5) stream of a CFB container,
/// after checking that every stream's sector chain is sound.
fn workbook_stream(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    let cfb = Cfb::new(bytes).ok_or("unreadable header or allocation table")?;
    let entries = cfb.directory().ok_or("the directory chain is broken")?;
    let root = entries
        .iter()
        .find(|e| e.kind == 5)
        .ok_or("no root entry")?;
    let mini_stream = cfb
        .stream(root.start, root.size)
        .ok_or("the mini stream's chain is broken")?;
    let mini_fat = cfb
        .table(cfb.mini_fat_start)
        .ok_or("the mini allocation table's chain is broken")?;
    let read = |entry: &Entry| -> Option<Vec<u8>> {
        if entry.size < u64::from(cfb.mini_cutoff) {
            let mut out = Vec::new();
            for id in cfb.chain(&mini_fat, entry.start, mini_stream.len() / 64 + 1)? {
                let at = id as usize * 64;
                out.extend_from_slice(mini_stream.get(at..(at + 64).min(mini_stream.len()))?);
            }
            out.truncate(entry.size as usize);
            Some(out)
        } else {
            cfb.stream(entry.start, entry.size)
        }
    };
    let mut book = None;
    for entry in entries.iter().filter(|e| e.kind == 2) {
        if entry.name == "EncryptedPackage" {
            return Err(Refusal::Encrypted);
        }
        let data = read(entry).ok_or_else(|| {
            Refusal::Damaged(format!("stream '{}' has a broken chain", entry.name))
        })?;
        if entry.name.eq_ignore_ascii_case("Workbook")
            || (book.is_none() && entry.name.eq_ignore_ascii_case("Book"))
        {
            book = Some(data);
        }
    }
    book.ok_or(Refusal::NotExcel)
}

struct Entry {
    name: String,
    kind: u8,
    start: u32,
    size: u64,
}

/// Just enough of the Compound File Binary format to find a stream.
struct Cfb<'a> {
    bytes: &'a [u8],
    sector: usize,
    fat: Vec<u32>,
    dir_start: u32,
    mini_cutoff: u32,
    mini_fat_start: u32,
}

impl<'a> Cfb<'a> {
    fn new(bytes: &'a [u8]) -> Option<Self> {
        if bytes.len() < 512
            || !bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
        {
            return None;
        }
        let sector = match u16_at(bytes, 0x1E)? {
            9 => 512,
            12 => 4096,
            _ => return None,
        };
        let mut cfb = Self {
            bytes,
            sector,
            fat: Vec::new(),
            dir_start: u32_at(bytes, 0x30)?,
            mini_cutoff: u32_at(bytes, 0x38)?,
            mini_fat_start: u32_at(bytes, 0x3C)?,
        };
        let fat_sectors = u32_at(bytes, 0x2C)? as usize;
        let mut difat: Vec<u32> = (0..109)
            .filter_map(|i| u32_at(bytes, 0x4C + i * 4))
            .collect();
        let mut next = u32_at(bytes, 0x44)?;
        let mut hops = 0;
        while next < END && hops < cfb.sectors() {
            let data = cfb.sector_data(next)?;
            let per = sector / 4 - 1;
            difat.extend((0..per).filter_map(|i| u32_at(data, i * 4)));
            next = u32_at(data, per * 4)?;
            hops += 1;
        }
        for id in difat.into_iter().filter(|&id| id < END).take(fat_sectors) {
            let data = cfb.sector_data(id)?;
            cfb.fat
                .extend((0..data.len() / 4).filter_map(|i| u32_at(data, i * 4)));
        }
        Some(cfb)
    }

    fn sectors(&self) -> usize {
        self.bytes.len() / self.sector
    }

    fn sector_data(&self, id: u32) -> Option<&'a [u8]> {
        let at = (id as usize).checked_add(1)?.checked_mul(self.sector)?;
        self.bytes.get(at..(at + self.sector).min(self.bytes.len()))
    }

    /// Sector ids of a chain of at most `max` sectors; `None` when it is
    /// longer (a loop) or leaves the table.
    fn chain(&self, table: &[u32], start: u32, max: usize) -> Option<Vec<u32>> {
        let mut out = Vec::new();
        let mut id = start;
        while id != END && id != FREE {
            if out.len() >= max {
                return None;
            }
            out.push(id);
            id = *table.get(id as usize)?;
        }
        Some(out)
    }

    fn stream(&self, start: u32, size: u64) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for id in self.chain(&self.fat, start, self.sectors())? {
            out.extend_from_slice(self.sector_data(id)?);
            if out.len() as u64 >= size {
                break;
            }
        }
        out.truncate(size.min(out.len() as u64) as usize);
        Some(out)
    }

    /// A table of u32 sector ids stored in a FAT chain (the mini FAT).
    fn table(&self, start: u32) -> Option<Vec<u32>> {
        let data = self.stream(start, u64::MAX)?;
        Some(
            (0..data.len() / 4)
                .filter_map(|i| u32_at(&data, i * 4))
                .collect(),
        )
    }

    fn directory(&self) -> Option<Vec<Entry>> {
        let data = self.stream(self.dir_start, u64::MAX)?;
        Some(
            data.chunks_exact(128)
                .map(|e| {
                    let len = (u16_at(e, 0x40).unwrap_or(0) as usize).clamp(2, 64) - 2;
                    let units: Vec<u16> = e[..len]
                        .chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .collect();
                    let low = u64::from(u32_at(e, 0x78).unwrap_or(0));
                    let high = u64::from(u32_at(e, 0x7C).unwrap_or(0));
                    Entry {
                        name: String::from_utf16_lossy(&units),
                        kind: e[0x42],
                        start: u32_at(e, 0x74).unwrap_or(END),
                        size: if self.sector == 512 {
                            low
                        } else {
                            low | high << 32
                        },
                    }
                })
                .collect(),
        )
    }
}

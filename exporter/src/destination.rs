//! Where the entries go: stdout; for a plain export a temporary file beside `--output`, renamed into place at the
//! end (or kept as `.partial` when that fails); for incremental runs the file itself, appended to, cut back first
//! to the length the state recorded, each page made durable before the state that covers it is saved; a device or a
//! pipe named by `--output` (`/dev/null`, a FIFO) is written to as it is, never replaced by a rename.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::args::Cli;
use crate::exit;

/// Where the entries go: stdout, a temporary file renamed onto `--output` at the end, or (incremental runs) a
/// file appended to, each page made durable before the state that covers it is saved.
pub(crate) enum Destination<O: Write> {
    Stdout(O),
    File {
        temp: NamedTempFile,
        path: PathBuf,
    },
    Append(File),
    /// A device or a pipe (`/dev/null`, a FIFO): written to as it is; nothing to rename, cut back or sync.
    Special(File),
}

impl<O: Write> Destination<O> {
    /// The length of an appended file, which the state records so that the next run can cut back to it; `None`
    /// for stdout and the temporary file of plain exports.
    pub(crate) fn appended_length(&self) -> io::Result<Option<u64>> {
        match self {
            Destination::Append(file) => file.metadata().map(|meta| Some(meta.len())),
            _ => Ok(None),
        }
    }

    /// Makes what was written durable: on disk for files (stdout was flushed by the writer).
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.flush(),
            Destination::File { temp, .. } => temp.as_file().sync_data(),
            Destination::Append(file) => file.sync_data(),
            Destination::Special(file) => file.flush(),
        }
    }
}

impl<O: Write> Write for Destination<O> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stdout(out) => out.write(buf),
            Destination::File { temp, .. } => temp.write(buf),
            Destination::Append(file) | Destination::Special(file) => file.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.write_all(buf),
            Destination::File { temp, .. } => temp.write_all(buf),
            Destination::Append(file) | Destination::Special(file) => file.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.flush(),
            Destination::File { temp, .. } => temp.flush(),
            Destination::Append(file) | Destination::Special(file) => file.flush(),
        }
    }
}

/// Where the entries go, and whether the output starts with a header (CSV, table): not when appending to a file
/// that already holds entries.
///
/// An appended file longer than `recorded` (its length when the state was last saved) is cut back to it first:
/// what follows is a page the state does not cover (it is fetched again) or a line cut short; `say` tells.
pub(crate) fn open_destination<O: Write>(
    cli: &Cli,
    incremental: bool,
    recorded: Option<u64>,
    say: &dyn Fn(&str),
    stdout: O,
) -> Result<(Destination<O>, bool), String> {
    let Some(path) = &cli.output else {
        return Ok((Destination::Stdout(stdout), true));
    };
    // A rename would replace the device or pipe with a file (`--output /dev/null` would leave a file there).
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|error| {
                format!(
                    "cannot open {} to write to: {}",
                    path.display(),
                    exit::one_line(&error)
                )
            })?;
        return Ok((Destination::Special(file), true));
    }
    if incremental {
        let cannot = |error: io::Error| {
            format!(
                "cannot open {} to append to: {}",
                path.display(),
                exit::one_line(&error)
            )
        };
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(cannot)?;
        let length = file.metadata().map_err(cannot)?.len();
        match recorded {
            Some(recorded) if length > recorded => {
                file.set_len(recorded).map_err(cannot)?;
                file.sync_data().map_err(cannot)?;
                say(&format!(
                    "{}: cut {} bytes written after the state was last saved (a page it does not cover, or a line \
                     cut short); they are fetched again",
                    path.display(),
                    length - recorded
                ));
            }
            Some(recorded) if length < recorded => say(&format!(
                "warning: {} is shorter than when the state was last saved ({length} bytes, not {recorded}): \
                 rotated or truncated; appending",
                path.display()
            )),
            _ => {}
        }
        let empty = file.metadata().map(|meta| meta.len() == 0).unwrap_or(true);
        return Ok((Destination::Append(file), empty));
    }
    let temp = temp_beside(path).map_err(|error| {
        format!(
            "cannot create a temporary file beside {}: {}",
            path.display(),
            exit::one_line(&error)
        )
    })?;
    Ok((
        Destination::File {
            temp,
            path: path.clone(),
        },
        true,
    ))
}

/// Makes the finished temporary file durable and renames it onto `path`. When the rename fails, the entries are
/// kept beside it as `path.partial` if possible; the error comes back with where they are.
pub(crate) fn place(temp: NamedTempFile, path: &Path) -> Result<(), (io::Error, Option<PathBuf>)> {
    temp.as_file().sync_all().map_err(|error| (error, None))?;
    let refused = match temp.persist(path) {
        Ok(_) => return Ok(()),
        Err(refused) => refused,
    };
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    match refused.file.persist(&partial) {
        Ok(_) => Err((refused.error, Some(partial))),
        Err(_) => Err((refused.error, None)),
    }
}

/// A temporary file in the folder of `path`, so that the final rename stays on one file system.
fn temp_beside(path: &Path) -> io::Result<NamedTempFile> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map_or_else(
        || "output".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(folder)
}

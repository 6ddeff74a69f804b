"""Files that hold secrets (keys, password hashes, reset links, uploads) are readable by their owner only."""
import os
import time

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path) -> str:
    """Create ``path`` (and its parents) if needed and make it private; return it."""
    os.makedirs(path, mode=DIR_MODE, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return str(path)


def private_open(path, mode: str = "wb", **kwargs):
    """``open`` for writing a new file created 0600 (never briefly readable by others)."""
    def opener(name, flags):
        return os.open(name, flags, FILE_MODE)
    f = open(path, mode, opener=opener, **kwargs)
    os.chmod(path, FILE_MODE)  # a file that already existed keeps its mode otherwise
    return f


def remove_older_than(folder, max_age: float, now: float | None = None, keep=()) -> int:
    """Delete the files of ``folder`` last changed more than ``max_age`` seconds ago, but those named in
    ``keep``; return how many."""
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.name not in keep and entry.is_file(follow_symlinks=False) \
                    and now - entry.stat(follow_symlinks=False).st_mtime > max_age:
                os.remove(entry.path)
                removed += 1
        except FileNotFoundError:  # removed by another process meanwhile
            pass
    return removed

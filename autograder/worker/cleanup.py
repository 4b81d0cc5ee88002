"""Removing a folder that student code filled, whatever it put there.

``shutil.rmtree`` recurses once per level, so 1,500 nested folders raise RecursionError, and paths that
deep exceed PATH_MAX. This walks the tree with directory file descriptors instead: at most two open
at a time, names relative to them, never following a symbolic link (a link to the grader's files is
removed as a link, its target untouched). Used by the zygote for each worker's scratch folder and by
the grader for folders a killed grader left behind.
"""

from __future__ import annotations

import contextlib
import os
import stat

_OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def remove_tree(path: str | os.PathLike[str]) -> None:
    """Remove ``path`` and everything under it; what cannot be removed is left, silently."""
    path = os.fspath(path)
    parent, name = os.path.split(os.path.abspath(path))
    try:
        parent_fd = os.open(parent, _OPEN_FOLDER)
    except OSError:
        return
    try:
        _remove_entry(parent_fd, name)
    finally:
        os.close(parent_fd)


def _remove_entry(parent_fd: int, name: str) -> None:
    try:
        info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except OSError:
        return
    if not stat.S_ISDIR(info.st_mode):
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=parent_fd)
        return
    try:
        current = _open_folder(name, parent_fd)
    except OSError:
        return
    # Depth first without recursion: `names` is the path from `name` down to the folder `current` is open on.
    # Climbing back uses "..": the worker that wrote the tree is dead, so nothing moves folders meanwhile.
    names = [name]
    while True:
        try:
            child = _first_entry(current)
        except OSError:
            os.close(current)
            return
        if child is None:  # empty: climb to the parent and remove this folder
            try:
                parent = os.dup(parent_fd) if len(names) == 1 else os.open("..", _OPEN_FOLDER, dir_fd=current)
            finally:
                os.close(current)
            try:
                if len(names) == 1:  # the folder asked for: its parent is not ours to change
                    os.rmdir(names.pop(), dir_fd=parent)
                else:
                    _in_writable(parent, os.rmdir, names.pop())
            except OSError:
                os.close(parent)
                return  # something we cannot remove: stop rather than loop on it
            if not names:
                os.close(parent)
                return
            current = parent
            continue
        entry_name, is_folder = child
        try:
            if is_folder:
                deeper = _open_folder(entry_name, current)
                os.close(current)
                current = deeper
                names.append(entry_name)
            else:
                _in_writable(current, os.unlink, entry_name)
        except OSError:
            os.close(current)
            return


def _in_writable(folder_fd: int, remove, name: str) -> None:
    """``remove(name)`` inside the folder, first making it writable if its owner made it read-only."""
    try:
        remove(name, dir_fd=folder_fd)
    except PermissionError:
        os.fchmod(folder_fd, 0o700)
        remove(name, dir_fd=folder_fd)


def _open_folder(name: str, parent_fd: int) -> int:
    try:
        return os.open(name, _OPEN_FOLDER, dir_fd=parent_fd)
    except PermissionError:  # a folder its owner made unreadable (chmod 000): make it readable again
        os.chmod(name, 0o700, dir_fd=parent_fd)
        return os.open(name, _OPEN_FOLDER, dir_fd=parent_fd)


def _first_entry(folder_fd: int) -> tuple[str, bool] | None:
    with os.scandir(folder_fd) as entries:
        for entry in entries:
            try:
                return entry.name, entry.is_dir(follow_symlinks=False)
            except OSError:
                return entry.name, False
    return None

"""How much memory is free, for refusing work that cannot fit before it starts. Standard library only, so the
inverse task can use it without loading torch."""

import os


def available_bytes() -> int | None:
    """Memory the kernel can hand out now (MemAvailable), or None where the system does not say."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1000:
            return f"{count:.3g} {unit}"
        count /= 1000
    return f"{count:.3g} TB"


def fits_in_memory(needed: float) -> bool:
    """False only when the system says that `needed` bytes are more than it has free."""
    free = available_bytes()
    return free is None or needed <= free

"""Benchmark: the upload pipeline against Pillow's bare decode-and-encode of the same 12-megapixel JPEG.

Run: .venv/bin/python bench/images.py [--repeat 5]

Each variant runs in its own child process, so its peak memory (max RSS) is its own.
Prints per-variant best time and peak RSS, and the ratios measured in this one run.
Target (issue 5): pipeline time <= 1.5 x bare, pipeline peak memory < 300 MB.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_photo(path: Path, size: tuple[int, int] = (4000, 3000)) -> None:
    """A photo-like 12 MP JPEG: gradients plus noise, so the encoders have real work."""
    from PIL import Image, ImageFilter

    noise = Image.effect_noise(size, 64).convert("RGB")
    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    photo = Image.blend(noise, gradient, 0.6).filter(ImageFilter.GaussianBlur(1))
    exif = Image.Exif()
    exif[0x0112] = 6
    photo.save(path, "JPEG", quality=92, exif=exif)


def child(variant: str, path: str, repeat: int) -> None:
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from shopapp.media.processing import WEBP_QUALITY, process_image

    data = Path(path).read_bytes()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        if variant == "bare":
            image = Image.open(io.BytesIO(data))
            image.load()
            out = io.BytesIO()
            image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
        else:
            process_image(data, 40_000_000)
        times.append(time.perf_counter() - started)
    # VmHWM is this process's own high-water mark (ru_maxrss would include the parent's, across exec).
    status = Path("/proc/self/status").read_text()
    peak_mb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024
    print(json.dumps({"best_s": min(times), "peak_mb": peak_mb}))


def measure(variant: str, path: Path, repeat: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, str(path), "--repeat", str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "PATH"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo-12mp.jpg"
        make_photo(photo)
        print(f"input: 4000x3000 JPEG, {photo.stat().st_size / 1e6:.1f} MB, best of {args.repeat}")
        bare = measure("bare", photo, args.repeat)
        pipeline = measure("pipeline", photo, args.repeat)
    print(f"{'variant':<30}{'time (s)':>10}{'peak RSS (MB)':>16}")
    print(f"{'Pillow bare decode+encode':<30}{bare['best_s']:>10.3f}{bare['peak_mb']:>16.0f}")
    print(f"{'ShopApp pipeline (3 sizes)':<30}{pipeline['best_s']:>10.3f}{pipeline['peak_mb']:>16.0f}")
    ratio = pipeline["best_s"] / bare["best_s"]
    print(f"time ratio pipeline/bare: {ratio:.2f} (target <= 1.50) {'OK' if ratio <= 1.5 else 'MISSED'}")
    ok = pipeline["peak_mb"] < 300
    print(f"pipeline peak memory: {pipeline['peak_mb']:.0f} MB (target < 300 MB) {'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()

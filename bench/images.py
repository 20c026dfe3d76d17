"""Benchmark: the upload pipeline against Pillow's bare decode-and-encode of the same 12-megapixel JPEG
(the camera photo of tests/media/photos.py), then the pipeline alone on real photos (PNG, WebP, 5120 JPEG).

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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


REAL_ROWS = ("canopee-3840.png", "pixels.webp", "landing-5120.jpg")


def photos() -> tuple[Path, list[Path]]:
    """The camera photo and the real ones (scripts/ensure-photos.sh fetches them; make setup-dev does)."""
    sys.path.insert(0, str(ROOT))
    from tests.media import photos as test_photos

    try:
        camera = test_photos.camera_photo()
    except BaseException as exc:  # pytest.skip outside pytest: the photos are missing
        if type(exc).__name__ != "Skipped":
            raise
        sys.exit(f"{exc}")
    real = [test_photos.PHOTOS / name for name in REAL_ROWS if (test_photos.PHOTOS / name).is_file()]
    return camera, real


def child(variant: str, path: str, repeat: int) -> None:
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from shopapp.media.processing import DEFAULT_DECODE_BUDGET, WEBP_QUALITY, process_image

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
            process_image(data, 40_000_000, decode_budget=DEFAULT_DECODE_BUDGET)
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
    from PIL import Image

    if args.child:
        child(args.child[0], args.child[1], args.repeat)
        return
    photo, real = photos()
    with Image.open(photo) as image:
        size = "x".join(map(str, image.size))
    print(f"input: {size} JPEG ({photo.name}), {photo.stat().st_size / 1e6:.1f} MB, best of {args.repeat}")
    bare = measure("bare", photo, args.repeat)
    pipeline = measure("pipeline", photo, args.repeat)
    print(f"{'variant':<48}{'time (s)':>10}{'peak RSS (MB)':>16}")
    print(f"{'Pillow bare decode+encode':<48}{bare['best_s']:>10.3f}{bare['peak_mb']:>16.0f}")
    print(f"{'ShopApp pipeline (3 sizes)':<48}{pipeline['best_s']:>10.3f}{pipeline['peak_mb']:>16.0f}")
    for path in real:
        with Image.open(path) as image:
            label = f"pipeline, {path.name} {image.width}x{image.height} {path.stat().st_size / 1e6:.1f} MB"
        row = measure("pipeline", path, args.repeat)
        print(f"{label:<48}{row['best_s']:>10.3f}{row['peak_mb']:>16.0f}")
    ratio = pipeline["best_s"] / bare["best_s"]
    print(f"time ratio pipeline/bare: {ratio:.2f} (target <= 1.50) {'OK' if ratio <= 1.5 else 'MISSED'}")
    ok = pipeline["peak_mb"] < 300
    print(f"pipeline peak memory: {pipeline['peak_mb']:.0f} MB (target < 300 MB) {'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()

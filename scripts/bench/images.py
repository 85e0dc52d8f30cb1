"""The synthetic test images (built from the fixture photos) and pixel comparison."""
import math
import os

from .common import PHOTOS, SIDES, log


def make_image(mp, tmp):
    import numpy as np
    from PIL import Image
    side = SIDES[mp]
    path = os.path.join(tmp, f"photo-{side}.png")
    if os.path.exists(path):
        return path
    log(f"  building {path}")
    tiles = []
    for name in ("astronaut-256.png", "coffee-256.png"):
        im = Image.open(os.path.join(PHOTOS, name)).convert("RGB")
        tiles.append(np.asarray(im.resize((1024, 1024), Image.LANCZOS)))
    base = np.concatenate(tiles, axis=1)                      # 1024 x 2048
    base = np.concatenate([base, base[::-1]], axis=0)          # mirrored: 2048 x 2048, no hard seams
    base = np.concatenate([base, base[:, ::-1]], axis=1)       # 2048 x 4096
    reps_y, reps_x = math.ceil(side / base.shape[0]), math.ceil(side / base.shape[1])
    if side <= 1024:
        # Small sizes: a downscale of the whole mosaic so they still show both photos.
        img = np.asarray(Image.fromarray(base[:, :2048]).resize((side, side), Image.LANCZOS))
    else:
        img = np.tile(base, (reps_y, reps_x, 1))[:side, :side]
    rng = np.random.default_rng(side)
    noisy = img.astype(np.int16) + rng.normal(0, 3, img.shape).round().astype(np.int16)
    out = np.clip(noisy, 0, 255).astype(np.uint8)
    Image.fromarray(out, "RGB").save(path + ".part.png", compress_level=1)
    os.replace(path + ".part.png", path)
    return path


def read_pixels(path):
    import numpy as np
    from PIL import Image
    return np.asarray(Image.open(path))


def compare(a_path, b_pixels):
    import numpy as np
    a = read_pixels(a_path)
    if a.shape != b_pixels.shape:
        return {"identical": False, "shape": [list(a.shape), list(b_pixels.shape)]}
    diff = np.abs(a.astype(np.int16) - b_pixels.astype(np.int16))
    return {"identical": bool(diff.max() == 0), "max_abs_diff": int(diff.max()),
            "pct_identical": round(100.0 * float((diff == 0).mean()), 3),
            "pct_within_1": round(100.0 * float((diff <= 1).mean()), 3),
            "mean_abs_diff": round(float(diff.mean()), 4)}

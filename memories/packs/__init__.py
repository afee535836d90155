"""The pack compiler: `compile_pack(spirit, PackRequest(...))` (see `compiler`)."""

from .compiler import Pack, PackRequest, compile_pack, item_dict, render
from .presets import LAYERS, PRESETS

__all__ = ["LAYERS", "PRESETS", "Pack", "PackRequest", "compile_pack", "item_dict", "render"]

"""OpenGL 3.3 core rendering of `avatar.vrm` models, independent of Qt widgets.

`AvatarRenderer(model).draw(width, height, expressions=...)` draws into whatever
framebuffer is bound in the current context (the overlay's QOpenGLWidget, an
off-screen target, an EGL context); `avatar.render.snapshot` saves one frame as a
PNG and `avatar.render.bench` times frames. Importing this package does not import
OpenGL, so callers can still choose PyOpenGL's platform (EGL) first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from avatar.render.renderer import AvatarRenderer, Lighting

__all__ = ["AvatarRenderer", "Lighting"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from avatar.render import renderer

        return getattr(renderer, name)
    raise AttributeError(name)

"""Draws an RGBA image (premultiplied alpha) as a textured quad, fitted into the
window: as large as fits, centred across, standing on the bottom edge. What a 2D
avatar (THA3's 512x512 frames) needs in the same OpenGL window as the 3D one."""

from __future__ import annotations

import ctypes

import numpy as np
from OpenGL import GL

from avatar.render.shaders import build_program

VERTEX = """#version 330 core
layout(location = 0) in vec2 a_corner;   // (0, 0) .. (1, 1)
uniform vec4 u_rect;                     // x0, y0, x1, y1 in clip space
out vec2 v_uv;
void main() {
    gl_Position = vec4(mix(u_rect.xy, u_rect.zw, a_corner), 0.0, 1.0);
    v_uv = vec2(a_corner.x, 1.0 - a_corner.y);  // image rows run top to bottom
}
"""

FRAGMENT = """#version 330 core
in vec2 v_uv;
uniform sampler2D u_image;
out vec4 frag;
void main() {
    frag = texture(u_image, v_uv);  // already premultiplied
}
"""


def fit_rect(image_w: int, image_h: int, view_w: int, view_h: int) -> tuple[float, float, float, float]:
    """Clip-space rectangle of the image: contained, centred across, on the bottom."""
    scale = min(view_w / image_w, view_h / image_h)
    w, h = image_w * scale / view_w * 2, image_h * scale / view_h * 2
    return -w / 2, -1.0, w / 2, -1.0 + h


class TextureQuad:
    """Make, update and draw with the window's GL context current."""

    def __init__(self) -> None:
        self.program = build_program(vertex=VERTEX, fragment=FRAGMENT)
        self.texture = int(GL.glGenTextures(1))
        self.size: tuple[int, int] | None = None
        self.vao = int(GL.glGenVertexArrays(1))
        self.vbo = int(GL.glGenBuffers(1))
        GL.glBindVertexArray(self.vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        corners = np.array([0, 0, 1, 0, 0, 1, 1, 1], np.float32)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, corners.nbytes, corners, GL.GL_STATIC_DRAW)
        GL.glEnableVertexAttribArray(0)
        GL.glVertexAttribPointer(0, 2, GL.GL_FLOAT, GL.GL_FALSE, 8, ctypes.c_void_p(0))
        GL.glBindVertexArray(0)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)

    def upload(self, rgba: np.ndarray) -> None:
        """A new frame: (H, W, 4) uint8, premultiplied alpha."""
        h, w = rgba.shape[:2]
        data = np.ascontiguousarray(rgba, dtype=np.uint8)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        if self.size != (w, h):
            GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA8, w, h, 0, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, data)
            for pname, value in ((GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR), (GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR),
                                 (GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE), (GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)):
                GL.glTexParameteri(GL.GL_TEXTURE_2D, pname, value)
            self.size = (w, h)
        else:
            GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, w, h, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, data)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)

    def draw(self, view_w: int, view_h: int) -> None:
        if self.size is None or view_w <= 0 or view_h <= 0:
            return
        GL.glViewport(0, 0, view_w, view_h)
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glUseProgram(self.program.handle)
        GL.glUniform4f(self.program.loc("u_rect"), *fit_rect(*self.size, view_w, view_h))
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
        GL.glUniform1i(self.program.loc("u_image"), 0)
        GL.glBindVertexArray(self.vao)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        GL.glBindVertexArray(0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glUseProgram(0)

    def close(self) -> None:
        GL.glDeleteTextures(1, [self.texture])
        GL.glDeleteBuffers(1, [self.vbo])
        GL.glDeleteVertexArrays(1, [self.vao])
        self.program.delete()

"""Draws a `Particles` pool over whatever is in the framebuffer.

One instanced draw call per layer and frame: each particle is a quad turned to its angle
(a moving spark's quad is long and thin, along its motion, so a streak costs
only the pixels it covers) and the fragment shader cuts its shape (a glowing
spark, a paper rectangle, a heart, a four-pointed star) out of the quad. Output is premultiplied alpha.
"""

from __future__ import annotations

import ctypes

import numpy as np
from OpenGL import GL

from avatar.render.shaders import build_program

VERTEX = """#version 330 core
layout(location = 0) in vec2 a_corner;  // the unit quad: (-1, -1) .. (1, 1)
layout(location = 1) in vec2 a_pos;     // per particle, stage units: x in [0, aspect], y in [0, 1]
layout(location = 2) in float a_size;   // its length, as a fraction of the window height
layout(location = 3) in vec4 a_color;   // straight alpha
layout(location = 4) in vec3 a_shape_angle_stretch;
uniform vec2 u_viewport;                // pixels
out vec2 v_uv;
out vec4 v_color;
flat out int v_shape;
flat out float v_stretch;
void main() {
    float length_px = a_size * u_viewport.y;
    float stretch = max(a_shape_angle_stretch.z, 1.0);
    vec2 half_px = 0.5 * vec2(length_px, length_px / stretch);  // a streak is long and thin
    float c = cos(a_shape_angle_stretch.y), s = sin(a_shape_angle_stretch.y);
    vec2 local = a_corner * half_px;
    vec2 offset_px = vec2(c * local.x - s * local.y, s * local.x + c * local.y);
    float aspect = u_viewport.x / u_viewport.y;
    vec2 centre = vec2(a_pos.x / aspect * 2.0 - 1.0, a_pos.y * 2.0 - 1.0);
    gl_Position = vec4(centre + offset_px * 2.0 / u_viewport, 0.0, 1.0);
    v_uv = a_corner;
    v_color = a_color;
    v_shape = int(a_shape_angle_stretch.x + 0.5);
    v_stretch = stretch;
}
"""

FRAGMENT = """#version 330 core
in vec2 v_uv;
in vec4 v_color;
flat in int v_shape;
flat in float v_stretch;
out vec4 frag;
void main() {
    vec2 q = v_uv;                 // the particle's own frame: x along its length
    float r = length(q);
    if (r >= 1.0 && v_shape != 1) discard;  // only confetti fills its corners
    float a;
    if (v_shape == 0) {            // spark: a hot core in a soft halo, drawn out along its motion
        a = clamp(exp(-r * r * 6.0) + (1.0 - smoothstep(0.15, 0.35, r)), 0.0, 1.0);
        a *= 1.0 - smoothstep(0.85, 1.0, r);
        a *= mix(1.0, 0.35 + 0.65 * (q.x * 0.5 + 0.5), step(1.01, v_stretch));  // brighter head
    } else if (v_shape == 1) {     // confetti: a slip of paper
        vec2 d = abs(q) - vec2(0.75, 0.4);
        a = 1.0 - smoothstep(-0.06, 0.02, max(d.x, d.y));
    } else if (v_shape == 2) {     // heart: (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0
        vec2 h = q * 1.3 + vec2(0.0, 0.15);
        float k = dot(h, h) - 1.0;
        float f = k * k * k - h.x * h.x * h.y * h.y * h.y;
        a = 1.0 - smoothstep(-0.03, 0.03, f);
    } else {                       // star: four thin rays and a bright centre
        float rays = exp(-abs(q.x) * 14.0) + exp(-abs(q.y) * 14.0);
        a = clamp(rays * (1.0 - r) + exp(-r * r * 20.0), 0.0, 1.0);
    }
    a *= v_color.a;
    if (a < 0.004) discard;
    frag = vec4(v_color.rgb * a, a);
}
"""

STRIDE = 10 * 4  # Particles.vertices(): x, y, size, r, g, b, a, shape, angle, stretch


class ParticleRenderer:
    """GL objects for the particles; make and use it with the window's context current."""

    def __init__(self) -> None:
        self.program = build_program(vertex=VERTEX, fragment=FRAGMENT)
        self.vao = int(GL.glGenVertexArrays(1))
        self.quad, self.vbo = (int(b) for b in GL.glGenBuffers(2))
        self.capacity = 0
        GL.glBindVertexArray(self.vao)
        corners = np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype=np.float32)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.quad)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, corners.nbytes, corners, GL.GL_STATIC_DRAW)
        GL.glEnableVertexAttribArray(0)
        GL.glVertexAttribPointer(0, 2, GL.GL_FLOAT, GL.GL_FALSE, 8, ctypes.c_void_p(0))
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        for loc, size, offset in ((1, 2, 0), (2, 1, 2), (3, 4, 3), (4, 3, 7)):
            GL.glEnableVertexAttribArray(loc)
            GL.glVertexAttribPointer(loc, size, GL.GL_FLOAT, GL.GL_FALSE, STRIDE, ctypes.c_void_p(offset * 4))
            GL.glVertexAttribDivisor(loc, 1)
        GL.glBindVertexArray(0)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)

    def draw(self, vertices: np.ndarray, width_px: int, height_px: int, *, additive: bool = False) -> None:
        """`additive`: colours add up where particles overlap (sparks burn brighter, as
        light does; alpha still composes as "over"); otherwise premultiplied "over",
        right for solid things like confetti and hearts."""
        n = len(vertices)
        if not n or width_px <= 0 or height_px <= 0:
            return
        data = np.ascontiguousarray(vertices, dtype=np.float32)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        if n > self.capacity:  # grow (never shrink) the buffer; refill it in place after
            self.capacity = max(n, 2 * self.capacity, 1024)
            GL.glBufferData(GL.GL_ARRAY_BUFFER, self.capacity * STRIDE, None, GL.GL_STREAM_DRAW)
        GL.glBufferSubData(GL.GL_ARRAY_BUFFER, 0, data.nbytes, data)
        GL.glViewport(0, 0, width_px, height_px)
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFuncSeparate(GL.GL_ONE, GL.GL_ONE if additive else GL.GL_ONE_MINUS_SRC_ALPHA,
                               GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glUseProgram(self.program.handle)
        GL.glUniform2f(self.program.loc("u_viewport"), float(width_px), float(height_px))
        GL.glBindVertexArray(self.vao)
        GL.glDrawArraysInstanced(GL.GL_TRIANGLE_STRIP, 0, 4, n)
        GL.glBindVertexArray(0)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
        GL.glUseProgram(0)

    def close(self) -> None:
        GL.glDeleteBuffers(2, [self.quad, self.vbo])
        GL.glDeleteVertexArrays(1, [self.vao])
        self.program.delete()

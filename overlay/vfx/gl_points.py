"""Draws a `Particles` pool as point sprites over whatever is in the framebuffer.

One draw call per frame: each particle is a point whose fragment shader cuts its
shape (a glowing spark, a paper rectangle, a heart, a four-pointed star) out of
the point's square. Output is premultiplied alpha, blended with
(ONE, ONE_MINUS_SRC_ALPHA), so the window stays correctly transparent for OBS.
"""

from __future__ import annotations

import ctypes

import numpy as np
from OpenGL import GL

from avatar.render.shaders import build_program

VERTEX = """#version 330 core
layout(location = 0) in vec2 a_pos;     // stage units: x in [0, aspect], y in [0, 1]
layout(location = 1) in float a_size;   // fraction of the window height
layout(location = 2) in vec4 a_color;   // straight alpha
layout(location = 3) in vec3 a_shape_angle_stretch;
uniform float u_aspect;
uniform float u_height_px;
out vec4 v_color;
flat out int v_shape;
out float v_angle;
out float v_stretch;
void main() {
    gl_Position = vec4(a_pos.x / u_aspect * 2.0 - 1.0, a_pos.y * 2.0 - 1.0, 0.0, 1.0);
    gl_PointSize = max(1.0, a_size * u_height_px);
    v_color = a_color;
    v_shape = int(a_shape_angle_stretch.x + 0.5);
    v_angle = a_shape_angle_stretch.y;
    v_stretch = a_shape_angle_stretch.z;
}
"""

FRAGMENT = """#version 330 core
in vec4 v_color;
flat in int v_shape;
in float v_angle;
in float v_stretch;
out vec4 frag;
void main() {
    vec2 p = gl_PointCoord * 2.0 - 1.0;
    p.y = -p.y;
    float c = cos(v_angle), s = sin(v_angle);
    vec2 q = vec2(c * p.x + s * p.y, -s * p.x + c * p.y);
    float r = length(p);
    float a;
    if (v_shape == 0) {            // spark: a hot core in a soft halo, drawn out along its motion
        vec2 e = vec2(q.x, q.y * v_stretch);
        float d = length(e);
        a = clamp(exp(-d * d * 6.0) + (1.0 - smoothstep(0.15, 0.35, d)), 0.0, 1.0);
        a *= 1.0 - smoothstep(0.85, 1.0, d);
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
        self.vbo = int(GL.glGenBuffers(1))
        self.capacity = 0
        GL.glBindVertexArray(self.vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        for loc, size, offset in ((0, 2, 0), (1, 1, 2), (2, 4, 3), (3, 3, 7)):
            GL.glEnableVertexAttribArray(loc)
            GL.glVertexAttribPointer(loc, size, GL.GL_FLOAT, GL.GL_FALSE, STRIDE, ctypes.c_void_p(offset * 4))
        GL.glBindVertexArray(0)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)

    def draw(self, vertices: np.ndarray, width_px: int, height_px: int) -> None:
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
        GL.glBlendFunc(GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glEnable(GL.GL_PROGRAM_POINT_SIZE)
        GL.glUseProgram(self.program.handle)
        GL.glUniform1f(self.program.loc("u_aspect"), width_px / height_px)
        GL.glUniform1f(self.program.loc("u_height_px"), float(height_px))
        GL.glBindVertexArray(self.vao)
        GL.glDrawArrays(GL.GL_POINTS, 0, n)
        GL.glBindVertexArray(0)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
        GL.glUseProgram(0)

    def close(self) -> None:
        GL.glDeleteBuffers(1, [self.vbo])
        GL.glDeleteVertexArrays(1, [self.vao])
        self.program.delete()

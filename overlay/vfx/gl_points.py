"""Draws a `Particles` pool over whatever is in the framebuffer, moving it on the GPU.

The vertex shader computes each particle's flight from its birth record and age
(the same closed form as `Particles.state_at_now`), so the CPU uploads only
newborns.

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

from .particles import WIDTH, Particles

VERTEX = """#version 330 core
layout(location = 0) in vec2 a_corner;  // the unit quad: (-1, -1) .. (1, 1)
// one particle's birth record (Particles.rec), in six vec4s
layout(location = 1) in vec4 a_pos_vel;           // x, y, vx, vy
layout(location = 2) in vec4 a_birth_life_size_r;
layout(location = 3) in vec4 a_gba_shape;
layout(location = 4) in vec4 a_fade_gravity_drag_spin;
layout(location = 5) in vec4 a_angle_wobble_phase_flicker;
layout(location = 6) in vec4 a_shrink_streak_slot;
uniform vec2 u_viewport;                // pixels
uniform float u_time;                   // the pool's clock, seconds
out vec2 v_uv;
out vec4 v_color;
flat out int v_shape;
flat out float v_stretch;

float noise(float slot, float time) {   // Particles.flicker_noise's twin
    float v = sin(slot * 12.9898 + floor(time * 30.0) * 78.233) * 43758.547;
    return v - floor(v);
}

void main() {
    float birth = a_birth_life_size_r.x, life = a_birth_life_size_r.y;
    float age = u_time - birth;
    if (age < 0.0 || age >= life) {     // an empty or finished slot: nothing to draw
        gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
        v_uv = vec2(0.0); v_color = vec4(0.0); v_shape = 0; v_stretch = 1.0;
        return;
    }
    float k = a_fade_gravity_drag_spin.z, g = a_fade_gravity_drag_spin.y;
    float e = exp(-k * age);
    float reach = k < 1e-6 ? age : (1.0 - e) / k;             // flight with exponential drag,
    float fall = k < 1e-6 ? 0.5 * age * age : (age - reach) / k;  // solved exactly
    vec2 v0 = a_pos_vel.zw;
    vec2 pos = a_pos_vel.xy + v0 * reach - vec2(0.0, g * fall);
    vec2 vel = v0 * e - vec2(0.0, g * reach);
    float x = age / max(life, 1e-6);
    float fade = a_fade_gravity_drag_spin.x;
    float alpha = fade > 1.5 ? clamp((1.0 - x) / 0.2, 0.0, 1.0)
                : fade > 0.5 ? sin(3.14159265 * clamp(x, 0.0, 1.0)) : 1.0 - x * x;
    float slot = a_shrink_streak_slot.z;
    float late = clamp((x - 0.5) * 2.0, 0.0, 1.0) * a_angle_wobble_phase_flicker.w;
    alpha *= 1.0 - late * noise(slot, u_time);
    pos.x += a_angle_wobble_phase_flicker.y * sin(age * 3.0 + a_angle_wobble_phase_flicker.z);
    float size = a_birth_life_size_r.z * (1.0 - a_shrink_streak_slot.x * x);
    float angle = a_angle_wobble_phase_flicker.x + a_fade_gravity_drag_spin.w * age;
    float stretch = 1.0;
    float streak = a_shrink_streak_slot.y;
    if (streak > 0.0) {                 // a spark drawn out along its motion
        stretch = clamp(1.0 + length(vel) * streak / max(size, 1e-6), 1.0, 14.0);
        angle = atan(vel.y, vel.x);
        size *= stretch;
    }
    float length_px = size * u_viewport.y;
    vec2 half_px = 0.5 * vec2(length_px, length_px / stretch);
    float c = cos(angle), s = sin(angle);
    vec2 local = a_corner * half_px;
    vec2 offset_px = vec2(c * local.x - s * local.y, s * local.x + c * local.y);
    float aspect = u_viewport.x / u_viewport.y;
    vec2 centre = vec2(pos.x / aspect * 2.0 - 1.0, pos.y * 2.0 - 1.0);
    gl_Position = vec4(centre + offset_px * 2.0 / u_viewport, 0.0, 1.0);
    v_uv = a_corner;
    v_color = vec4(a_birth_life_size_r.w, a_gba_shape.xy, a_gba_shape.z * alpha);
    v_shape = int(a_gba_shape.w + 0.5);
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

STRIDE = WIDTH * 4  # one Particles.rec row


class ParticleRenderer:
    """The GPU side of one `Particles` pool: its records live in a buffer that only
    takes the slots written since the last frame; each frame is one instanced draw
    with the pool's clock. Make and use it with the window's context current."""

    def __init__(self) -> None:
        self.program = build_program(vertex=VERTEX, fragment=FRAGMENT)
        self.vao = int(GL.glGenVertexArrays(1))
        self.quad, self.vbo = (int(b) for b in GL.glGenBuffers(2))
        self.capacity = 0
        self.uploaded = -1  # the pool version on the GPU
        GL.glBindVertexArray(self.vao)
        corners = np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype=np.float32)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.quad)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, corners.nbytes, corners, GL.GL_STATIC_DRAW)
        GL.glEnableVertexAttribArray(0)
        GL.glVertexAttribPointer(0, 2, GL.GL_FLOAT, GL.GL_FALSE, 8, ctypes.c_void_p(0))
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        for i in range(6):
            GL.glEnableVertexAttribArray(1 + i)
            GL.glVertexAttribPointer(1 + i, 4, GL.GL_FLOAT, GL.GL_FALSE, STRIDE, ctypes.c_void_p(16 * i))
            GL.glVertexAttribDivisor(1 + i, 1)
        GL.glBindVertexArray(0)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)

    def _upload(self, pool: Particles) -> None:
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        if self.capacity != pool.capacity:
            self.capacity = pool.capacity
            GL.glBufferData(GL.GL_ARRAY_BUFFER, pool.rec.nbytes, pool.rec, GL.GL_DYNAMIC_DRAW)
            pool.take_dirty()
        else:
            dirty = pool.take_dirty()
            if dirty is not None:
                lo, hi = dirty
                GL.glBufferSubData(GL.GL_ARRAY_BUFFER, lo * STRIDE, (hi - lo) * STRIDE, pool.rec[lo:hi])
        self.uploaded = pool.version
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)

    def draw(self, pool: Particles, width_px: int, height_px: int, *, additive: bool = False) -> None:
        """`additive`: colours add up where particles overlap (sparks burn brighter, as
        light does; alpha still composes as "over"); otherwise premultiplied "over",
        right for solid things like confetti and hearts."""
        if pool.version != self.uploaded or self.capacity != pool.capacity:
            self._upload(pool)
        if not pool.high or width_px <= 0 or height_px <= 0:
            return
        GL.glViewport(0, 0, width_px, height_px)
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFuncSeparate(GL.GL_ONE, GL.GL_ONE if additive else GL.GL_ONE_MINUS_SRC_ALPHA,
                               GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glUseProgram(self.program.handle)
        GL.glUniform2f(self.program.loc("u_viewport"), float(width_px), float(height_px))
        GL.glUniform1f(self.program.loc("u_time"), float(pool.time))
        GL.glBindVertexArray(self.vao)
        GL.glDrawArraysInstanced(GL.GL_TRIANGLE_STRIP, 0, 4, pool.high)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)

    def close(self) -> None:
        GL.glDeleteBuffers(2, [self.quad, self.vbo])
        GL.glDeleteVertexArrays(1, [self.vao])
        self.program.delete()

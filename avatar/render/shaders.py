"""GLSL 3.30 core sources for the avatar, and compiling them.

Skinning reads joint matrices from a buffer texture (no uniform-array limit on
joints), morph targets are blended on the CPU (see `avatar.render.gpu`), and the
fragment stage is a toon model after VRM 1.0 MToon: lit versus shade colour split
by `shadingShift`/`shadingToony`, ambient light, a parametric rim and matcap,
emissive, the three glTF alpha modes, and an outline pass that extrudes the mesh
along its normals. The fragment shader is compiled per combination of features a
material uses. Colours are linear inside the shader and written sRGB-encoded, so
colour textures are uploaded as sRGB.
"""

from __future__ import annotations

from dataclasses import dataclass

from OpenGL import GL

# Texture units, fixed per role so a material switch only rebinds textures.
UNIT_BASE, UNIT_SHADE, UNIT_SHIFT, UNIT_EMISSIVE, UNIT_RIM, UNIT_MATCAP = range(6)
UNIT_NORMAL, UNIT_OUTLINE_WIDTH, UNIT_UV_MASK, UNIT_JOINTS = 6, 7, 8, 9

# Vertex attribute locations.
ATTR_POSITION, ATTR_NORMAL, ATTR_UV, ATTR_JOINTS, ATTR_WEIGHTS = range(5)

ALPHA_OPAQUE, ALPHA_MASK, ALPHA_BLEND = 0, 1, 2
OUTLINE_NONE, OUTLINE_WORLD, OUTLINE_SCREEN = 0, 1, 2

VERTEX = """
#version 330 core
layout(location = 0) in vec3 a_position;
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec2 a_uv;
layout(location = 3) in uvec4 a_joints;
layout(location = 4) in vec4 a_weights;

uniform mat4 u_model;          // node world matrix (identity for skinned meshes)
uniform mat3 u_normal_matrix;  // inverse transpose of u_model's 3x3
uniform mat4 u_view;
uniform mat4 u_proj;
uniform bool u_skinned;
uniform samplerBuffer u_joint_matrices;  // 4 texels (columns) per joint
uniform int u_outline_mode;    // 0 none, 1 world units, 2 share of screen height
uniform float u_outline_width;
uniform sampler2D u_outline_width_tex;
uniform float u_aspect;

out vec3 v_world;
out vec3 v_normal;
out vec2 v_uv;

mat4 joint_matrix(uint j) {
    int base = int(j) * 4;
    return mat4(texelFetch(u_joint_matrices, base), texelFetch(u_joint_matrices, base + 1),
                texelFetch(u_joint_matrices, base + 2), texelFetch(u_joint_matrices, base + 3));
}

void main() {
    vec4 position = vec4(a_position, 1.0);
    vec3 normal = a_normal;
    if (u_skinned) {
        mat4 skin = a_weights.x * joint_matrix(a_joints.x) + a_weights.y * joint_matrix(a_joints.y)
                  + a_weights.z * joint_matrix(a_joints.z) + a_weights.w * joint_matrix(a_joints.w);
        position = skin * position;
        normal = mat3(skin) * normal;
    } else {
        position = u_model * position;
        normal = u_normal_matrix * normal;
    }
    float len = length(normal);
    normal = len > 0.0 ? normal / len : vec3(0.0, 0.0, 1.0);
    float width = u_outline_width;
    if (u_outline_mode != 0) {
        width *= textureLod(u_outline_width_tex, a_uv, 0.0).g;
    }
    if (u_outline_mode == 1) {
        position.xyz += normal * width;
    }
    v_world = position.xyz;
    v_normal = normal;
    v_uv = a_uv;
    gl_Position = u_proj * u_view * position;
    if (u_outline_mode == 2) {
        vec3 clip_normal = mat3(u_proj) * (mat3(u_view) * normal);
        vec2 dir = clip_normal.xy;
        float dl = length(dir);
        if (dl > 0.0) {
            dir /= dl;
            // NDC spans 2 units of height; keep the offset round on wide screens.
            gl_Position.xy += vec2(dir.x / u_aspect, dir.y) * 2.0 * width * gl_Position.w;
        }
    }
}
"""

FRAGMENT = """
#version 330 core
// Specialised per material with #defines (see `Features`): under llvmpipe every
// branch and texture fetch costs per pixel, and a shader that may discard stops
// depth testing before shading, so each material gets only what it uses.
in vec3 v_world;
in vec3 v_normal;
in vec2 v_uv;

uniform vec4 u_base_color;
uniform sampler2D u_base_tex;
uniform mat3 u_uv_transform;        // KHR_texture_transform plus expression binds
uniform vec3 u_uv_anim;             // MToon scroll x, scroll y, rotation (already * time)
uniform sampler2D u_uv_mask_tex;
uniform vec3 u_shade_color;         // PLAIN: a multiplier of the lit colour
uniform sampler2D u_shade_tex;
uniform float u_shading_shift;
uniform sampler2D u_shift_tex;
uniform float u_shift_tex_scale;
uniform float u_toony;
uniform vec3 u_emissive;
uniform sampler2D u_emissive_tex;
uniform vec3 u_rim_color;
uniform sampler2D u_rim_tex;
uniform float u_rim_mix;
uniform float u_rim_power;
uniform float u_rim_lift;
uniform vec3 u_matcap_color;
uniform sampler2D u_matcap_tex;
uniform sampler2D u_normal_tex;
uniform float u_normal_scale;
uniform float u_alpha_cutoff;
uniform vec3 u_outline_color;
uniform float u_outline_lighting_mix;

uniform vec3 u_light_dir;           // towards the light, world space
uniform vec3 u_light_color;
uniform vec3 u_ambient;
uniform vec3 u_camera_pos;
uniform mat4 u_view;

out vec4 frag_color;

vec3 linear_to_srgb(vec3 c) {
    c = clamp(c, 0.0, 1.0);
    return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c));
}

vec2 material_uv() {
    vec2 uv = (u_uv_transform * vec3(v_uv, 1.0)).xy;
#ifdef UV_ANIM
#ifdef UV_MASK_TEX
    float mask = texture(u_uv_mask_tex, uv).b;
#else
    float mask = 1.0;
#endif
    vec2 p = uv + u_uv_anim.xy * mask - 0.5;
    float a = u_uv_anim.z * mask;
    float c = cos(a), s = sin(a);
    uv = vec2(c * p.x + s * p.y, -s * p.x + c * p.y) + 0.5;
#endif
    return uv;
}

#ifdef NORMAL_TEX
vec3 mapped_normal(vec3 n, vec2 uv) {
    // Tangent frame from screen-space derivatives: no TANGENT attribute needed.
    vec3 dp1 = dFdx(v_world), dp2 = dFdy(v_world);
    vec2 duv1 = dFdx(uv), duv2 = dFdy(uv);
    vec3 dp2perp = cross(dp2, n), dp1perp = cross(n, dp1);
    vec3 t = dp2perp * duv1.x + dp1perp * duv2.x;
    vec3 b = dp2perp * duv1.y + dp1perp * duv2.y;
    float m = max(dot(t, t), dot(b, b));
    if (m <= 0.0) return n;
    float inv = inversesqrt(m);
    vec3 tn = texture(u_normal_tex, uv).xyz * 2.0 - 1.0;
    tn.xy *= u_normal_scale;
    return normalize(mat3(t * inv, b * inv, n) * tn);
}
#endif

void main() {
    vec2 uv = material_uv();
#ifdef BASE_TEX
    vec4 base = u_base_color * texture(u_base_tex, uv);
#else
    vec4 base = u_base_color;
#endif
#ifdef ALPHA_TEST
    if (base.a < u_alpha_cutoff) discard;
#endif
#ifdef BLEND
    float alpha = base.a;
#else
    float alpha = 1.0;
#endif
    vec3 lit = base.rgb;
#if defined(UNLIT) && !defined(OUTLINE)
    vec3 color = lit;
#else
    vec3 n = normalize(v_normal);
#ifdef DOUBLE_SIDED
    if (!gl_FrontFacing) n = -n;
#endif
#ifdef NORMAL_TEX
    n = mapped_normal(n, uv);
#endif
    float ndotl = dot(n, u_light_dir);
#ifdef OUTLINE
    vec3 light = u_light_color * clamp(ndotl, 0.0, 1.0) + u_ambient;
    vec3 color = u_outline_color * mix(vec3(1.0), light, u_outline_lighting_mix);
#else
    float shading = ndotl + u_shading_shift;
#ifdef SHIFT_TEX
    shading += texture(u_shift_tex, uv).r * u_shift_tex_scale;
#endif
    float lo = -1.0 + u_toony, hi = 1.0 - u_toony;
    shading = clamp((shading - lo) / max(hi - lo, 1e-4), 0.0, 1.0);
#ifdef PLAIN
    vec3 shade = lit * u_shade_color;
#elif defined(SHADE_TEX)
    vec3 shade = u_shade_color * texture(u_shade_tex, uv).rgb;
#else
    vec3 shade = u_shade_color;
#endif
    vec3 color = mix(shade, lit, shading) * u_light_color + lit * u_ambient;
#ifdef RIM
    vec3 rim = u_rim_color * pow(clamp(1.0 - dot(n, normalize(u_camera_pos - v_world))
                                       + u_rim_lift, 0.0, 1.0), max(u_rim_power, 1e-4));
#ifdef MATCAP
    vec3 vn = mat3(u_view) * n;
    rim += u_matcap_color * texture(u_matcap_tex, vn.xy * 0.495 + 0.5).rgb;
#endif
#ifdef RIM_TEX
    rim *= texture(u_rim_tex, uv).rgb;
#endif
    color += rim * mix(vec3(1.0), u_light_color * shading + u_ambient, u_rim_mix);
#endif
#endif
#endif
#if defined(EMISSIVE) && !defined(OUTLINE)
#ifdef EMISSIVE_TEX
    color += u_emissive * texture(u_emissive_tex, uv).rgb;
#else
    color += u_emissive;
#endif
#endif
    // Straight alpha here; BLEND's blend function premultiplies into the framebuffer.
    frag_color = vec4(linear_to_srgb(color), alpha);
}
"""

#: Every #define the fragment shader knows.
FEATURES = frozenset({
    "ALPHA_TEST", "BLEND", "UNLIT", "PLAIN", "DOUBLE_SIDED", "OUTLINE", "BASE_TEX", "SHADE_TEX",
    "SHIFT_TEX", "EMISSIVE", "EMISSIVE_TEX", "RIM", "RIM_TEX", "MATCAP", "NORMAL_TEX", "UV_ANIM",
    "UV_MASK_TEX",
})


class ShaderError(RuntimeError):
    """A shader failed to compile or link; the message carries the driver's log."""


@dataclass
class Program:
    """A linked program and its uniform locations, looked up once."""

    handle: int
    uniforms: dict[str, int]

    def loc(self, name: str) -> int:
        return self.uniforms.get(name, -1)

    def delete(self) -> None:
        if self.handle:
            GL.glDeleteProgram(self.handle)
            self.handle = 0


def _compile(kind: int, source: str) -> int:
    shader = GL.glCreateShader(kind)
    GL.glShaderSource(shader, source)
    GL.glCompileShader(shader)
    if not GL.glGetShaderiv(shader, GL.GL_COMPILE_STATUS):
        log = GL.glGetShaderInfoLog(shader)
        GL.glDeleteShader(shader)
        raise ShaderError(f"shader did not compile: {_text(log)}")
    return shader


def _text(log: bytes | str) -> str:
    return log.decode(errors="replace") if isinstance(log, bytes) else str(log)


def build_program(features: frozenset[str] = frozenset(), *, vertex: str = VERTEX,
                  fragment: str = FRAGMENT) -> Program:
    """Compile and link with these #defines; samplers are bound to their fixed units."""
    unknown = set(features) - FEATURES
    if unknown:
        raise ValueError(f"unknown shader features: {sorted(unknown)}")
    defines = "".join(f"#define {name}\n" for name in sorted(features))
    fragment = fragment.replace("#version 330 core\n", "#version 330 core\n" + defines, 1)
    vs = _compile(GL.GL_VERTEX_SHADER, vertex)
    try:
        fs = _compile(GL.GL_FRAGMENT_SHADER, fragment)
    except ShaderError:
        GL.glDeleteShader(vs)
        raise
    program = GL.glCreateProgram()
    GL.glAttachShader(program, vs)
    GL.glAttachShader(program, fs)
    GL.glLinkProgram(program)
    GL.glDeleteShader(vs)
    GL.glDeleteShader(fs)
    if not GL.glGetProgramiv(program, GL.GL_LINK_STATUS):
        log = GL.glGetProgramInfoLog(program)
        GL.glDeleteProgram(program)
        raise ShaderError(f"shader program did not link: {_text(log)}")
    uniforms: dict[str, int] = {}
    count = GL.glGetProgramiv(program, GL.GL_ACTIVE_UNIFORMS)
    for i in range(count):
        name, _size, _type = GL.glGetActiveUniform(program, i)
        name = _text(name).split("[")[0]
        uniforms[name] = GL.glGetUniformLocation(program, name)
    prog = Program(program, uniforms)
    GL.glUseProgram(program)
    for name, unit in (
        ("u_base_tex", UNIT_BASE), ("u_shade_tex", UNIT_SHADE), ("u_shift_tex", UNIT_SHIFT),
        ("u_emissive_tex", UNIT_EMISSIVE), ("u_rim_tex", UNIT_RIM), ("u_matcap_tex", UNIT_MATCAP),
        ("u_normal_tex", UNIT_NORMAL), ("u_outline_width_tex", UNIT_OUTLINE_WIDTH),
        ("u_uv_mask_tex", UNIT_UV_MASK), ("u_joint_matrices", UNIT_JOINTS),
    ):
        if prog.loc(name) >= 0:
            GL.glUniform1i(prog.loc(name), unit)
    GL.glUseProgram(0)
    return prog

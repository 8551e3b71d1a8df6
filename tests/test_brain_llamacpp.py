"""The default brain: real SmolLM2 generation on llama.cpp, persona and memory."""

import asyncio

from bot.brain import Brain, ChatMessage, GenerationParams
from bot.brain.memory import ConversationMemory
from bot.brain.persona import system_prompt, viewer_turn


def collect(session_loop, agen):
    async def go():
        return [x async for x in agen]

    return session_loop.run_until_complete(go())


def test_real_smollm2_streams_text(llama_backend, session_loop):
    params = GenerationParams(max_tokens=12, temperature=0.0, top_p=1.0)
    deltas = collect(session_loop, llama_backend.stream(
        [ChatMessage("system", "You are a friendly streamer."), ChatMessage("user", "coolguy42 says: hello!")],
        params))
    assert len(deltas) >= 3  # it streamed, token by token
    assert len(deltas) <= 12
    text = "".join(deltas)
    assert any(c.isalpha() for c in text)
    assert "<|im_end|>" not in text


def test_greedy_generation_is_repeatable(llama_backend, session_loop):
    params = GenerationParams(max_tokens=8, temperature=0.0, top_p=1.0)
    msgs = [ChatMessage("user", "Name a fruit.")]
    a = "".join(collect(session_loop, llama_backend.stream(msgs, params)))
    b = "".join(collect(session_loop, llama_backend.stream(msgs, params)))
    assert a == b


def test_abandoned_stream_frees_the_model(llama_backend, session_loop):
    """A consumer that stops early (a skipped answer) must not block the next answer."""
    params = GenerationParams(max_tokens=64, temperature=0.0, top_p=1.0)

    async def go():
        agen = llama_backend.stream([ChatMessage("user", "Tell a long story.")], params)
        async for _ in agen:
            break
        await agen.aclose()
        return [d async for d in llama_backend.stream([ChatMessage("user", "Say hi.")],
                                                      GenerationParams(4, 0.0, 1.0))]

    assert session_loop.run_until_complete(asyncio.wait_for(go(), 60))


def test_real_tokenizer_counts(llama_backend):
    assert llama_backend.count_tokens("hello") >= 1
    assert llama_backend.count_tokens("hello " * 50) > llama_backend.count_tokens("hello " * 10)


def test_prompt_has_persona_memory_and_viewer_name(defaults, llama_backend):
    brain = Brain(llama_backend, defaults.config.persona, defaults.config.llm)
    brain.remember("pixelpanda", "what is your name?", "I'm Mochi!")
    msgs = brain.prompt("coolguy42", "  do you like cats? ")
    assert msgs[0].role == "system" and "Mochi" in msgs[0].content
    assert "at most 3 short spoken sentences" in msgs[0].content
    assert msgs[1] == ChatMessage("user", "pixelpanda says: what is your name?")
    assert msgs[2] == ChatMessage("assistant", "I'm Mochi!")
    assert msgs[-1] == ChatMessage("user", "coolguy42 says: do you like cats?")


def test_memory_is_bounded_by_token_budget():
    mem = ConversationMemory(100, lambda s: len(s.split()))
    sizes = []
    for i in range(50):
        mem.add(viewer_turn(f"v{i}", "word " * 10), "reply " * 10)
        assert mem.tokens <= 100
        sizes.append(len(mem))
    assert 1 <= len(mem) < 50
    # cut back in blocks (to half the budget), so the prompt's start changes rarely
    # (30 tokens an exchange: 3 fit; one-at-a-time trimming would cut on 47 of 50 adds)
    assert sizes[:7] == [1, 2, 3, 1, 2, 3, 1]
    assert sum(1 for a, b in zip(sizes, sizes[1:]) if b < a) == 16
    # the newest exchange is the one kept
    assert mem.messages()[-2].content.startswith("v49 says:")
    mem.add("x", "   ")  # nothing said: nothing remembered
    assert mem.messages()[-2].content.startswith("v49 says:")


def test_system_prompt_uses_every_persona_field(defaults):
    persona = defaults.config.persona.model_copy(update={
        "name": "Nova", "personality": "a space pirate.", "speaking_style": "dramatic.",
        "extra_rules": ["Say arr."], "max_reply_sentences": 2})
    text = system_prompt(persona)
    for part in ("You are Nova, a space pirate.", "dramatic.", "Say arr.", "at most 2 short"):
        assert part in text

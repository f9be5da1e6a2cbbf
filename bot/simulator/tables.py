"""The simulator's own reading of docs/musicapi/protocol.md's enums and per-task-type rules.

Deliberately not imported from ``bot.musicapi``: the simulator stands in for the server, so its
tables are a second, independent reading of the reference. Where the client's tables and these
disagree, a test notices (``tests/musicapi/test_rule_tables_agree.py``) and one of the two
readings is wrong. Section numbers are docs/musicapi/protocol.md's.
"""

from __future__ import annotations

# Tuples, not sets: a request body may hold any JSON value, and ``[] in a_set`` raises where
# ``[] in a_tuple`` is simply False.

# §3.1 `task_type` of /sonic/create (default create_music).
SONIC_TASK_TYPES = (
    "create_music",
    "extend_music",
    "cover_music",
    "concat_music",
    "persona_music",
    "extend_upload_music",
    "cover_upload_music",
    "remaster",
    "add_instrumental",
    "add_vocals",
)

# §3.1 "Required fields by task type". create_music also needs `prompt` (custom mode) or
# `gpt_description_prompt` (description mode), which depends on custom_mode and is checked apart.
SONIC_REQUIRED: dict[str, tuple[str, ...]] = {
    "create_music": ("custom_mode", "mv"),
    "extend_music": ("continue_clip_id", "continue_at", "custom_mode", "mv"),
    "cover_music": ("continue_clip_id", "custom_mode", "mv"),
    "concat_music": ("continue_clip_id",),
    "persona_music": ("persona_id", "custom_mode", "mv"),
    "extend_upload_music": ("continue_clip_id", "continue_at", "custom_mode", "mv"),
    "cover_upload_music": ("continue_clip_id", "custom_mode", "mv"),
    "remaster": ("continue_clip_id", "mv"),
    "add_vocals": (
        "continue_clip_id",
        "prompt",
        "mv",
        "overpainting_start_s",
        "overpainting_end_s",
    ),
    "add_instrumental": ("continue_clip_id", "mv", "overpainting_start_s", "overpainting_end_s"),
}

# §2.1: "Booleans must be real JSON booleans, because the server checks types". §3.1 types
# these four as boolean on /sonic/create.
SONIC_BOOLEANS = ("custom_mode", "make_instrumental", "auto_lyrics", "use_suno_cdn")

# §6 Riffusion (deprecated).
RIFFUSION_TASK_TYPES = (
    "create_music",
    "extend_music",
    "cover_music",
    "replace_music",
    "swap_music_sound",
    "swap_music_vocals",
    "extend_upload_music",
    "cover_upload_music",
    "replace_upload_music",
    "swap_upload_music_sound",
    "swap_upload_music_vocals",
)
RIFFUSION_MODELS = ("FUZZ-1.1 Pro", "FUZZ-1.0 Pro", "FUZZ-1.1", "FUZZ-1.0")

# §7 Producer: the live task types, and the three that answer 410 Gone.
PRODUCER_TASK_TYPES = (
    "create_music",
    "extend_music",
    "replace_music",
    "cover_music",
    "extend_upload_music",
    "replace_upload_music",
    "cover_upload_music",
)
PRODUCER_RETIRED_TASK_TYPES = ("music_variation", "swap_music_vocals", "swap_music_sound")

# §8 Studio (unavailable).
STUDIO_LYRICS_TYPES = ("user", "generate", "instrumental")
STUDIO_MODEL_TYPES = ("studio130-v1.5", "studio32-v1.5")
STUDIO_MODES = ("regular", "precede", "continuation")

# §9 Nuro, vocal song.
NURO_GENDERS = ("Female", "Male")
NURO_VOCAL_GENRES = (
        "Folk", "Pop", "Rock", "Chinese Style", "Hip Hop/Rap", "R&B/Soul", "Punk", "Electronic",
        "Jazz", "Reggae", "DJ", "Pop Punk", "Disco", "Future Bass", "Pop Rap", "Trap Rap",
        "R&B Rap", "Chinoiserie Electronic", "GuFeng Music", "Pop Rock", "Jazz Pop",
        "Bossa Nova", "Contemporary R&B",
)  # fmt: skip
NURO_VOCAL_MOODS = (
        "Happy", "Dynamic/Energetic", "Sentimental/Melancholic/Lonely", "Inspirational/Hopeful",
        "Nostalgic/Memory", "Excited", "Sorrow/Sad", "Chill", "Romantic", "Miss",
        "Groovy/Funky", "Dreamy/Ethereal", "Calm/Relaxing",
)  # fmt: skip
NURO_TIMBRES = (
        "Warm", "Bright", "Husky", "Electrified voice", "Sweet_AUDIO_TIMBRE",
        "Cute_AUDIO_TIMBRE", "Loud and sonorous", "Powerful", "Sexy/Lazy",
)  # fmt: skip

# §9 Nuro, BGM: arrays of at most 5 values each.
NURO_BGM_GENRES = (
        "corporate", "dance/edm", "orchestral", "chill out", "rock", "hip hop", "folk", "funk",
        "ambient", "holiday", "jazz", "kids", "world", "travel", "commercial", "advertising",
        "driving", "cinematic", "upbeat", "epic", "inspiring", "business", "video game", "dark",
        "pop", "trailer", "modern", "electronic", "documentary", "soundtrack", "fashion",
        "acoustic", "movie", "tv", "high tech", "industrial", "dance", "video", "vlog",
        "marketing", "game", "radio", "promotional", "sports", "party", "summer", "beauty",
)  # fmt: skip
NURO_BGM_MOODS = (
        "positive", "uplifting", "energetic", "happy", "bright", "optimistic", "hopeful", "cool",
        "dreamy", "fun", "light", "powerful", "calm", "confident", "joyful", "dramatic",
        "peaceful", "playful", "soft", "groovy", "reflective", "easy", "relaxed", "lively",
        "smooth", "romantic", "intense", "elegant", "mellow", "emotional", "sentimental",
        "cheerful happy", "contemplative", "soothing", "proud", "passionate", "sweet",
        "mystical", "tranquil", "cheerful", "casual", "beautiful", "ethereal", "melancholy",
        "sad", "aggressive", "haunting", "adventure", "serene", "sincere", "funky", "funny",
)  # fmt: skip
NURO_BGM_INSTRUMENTS = (
        "piano", "drums", "guitar", "percussion", "synth", "electric guitar", "acoustic guitar",
        "bass guitar", "brass", "violin", "cello", "flute", "organ", "trumpet", "ukulele",
        "saxophone", "double bass", "harp", "glockenspiel", "synthesizer", "keyboard", "marimba",
        "bass", "banjo", "strings",
)  # fmt: skip
NURO_BGM_THEMES = (
        "inspirational", "motivational", "achievement", "discovery", "every day", "love",
        "technology", "lifestyle", "journey", "meditation", "drama", "children", "hope",
        "fantasy", "holiday", "health", "family", "real estate", "media", "kids", "science",
        "education", "progress", "world", "vacation", "training", "christmas", "sales",
)  # fmt: skip
NURO_SEGMENT_NAMES = ("intro", "verse", "chorus", "inst", "outro")

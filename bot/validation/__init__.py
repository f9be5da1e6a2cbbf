"""Every check of member input, before anything is reserved, charged or sent upstream.

By family, on shared helpers:

- `text`: invisible characters removed before the required and length checks; `quote` for
  member text that a reply repeats (shortened, as inline code, so the reply always fits).
- `numbers`: numbers checked as they will be sent (after rounding to 0.01 s).
- `windows`: one time-window check (`start < end`, a minimum length, inside the song).
- `choices`: documented values, refused without echoing what was typed.
- `attachments`: audio recognised by its bytes, lyrics files decoded as UTF-8, sizes bounded.
- `sonic` (`/song`, `/request`), `families` (`/producer`, `/nuro`, `/riffusion`, `/studio`),
  `tools` (`/tools`, `/persona`, `/lyrics`): each command's options, checked completely, then
  the request built from the checked values (`built.checked` turns a request builder's own
  `ValueError` into a refusal naming the option, as a safety net).

A refusal is an `InputError` naming the option and the limit.
"""

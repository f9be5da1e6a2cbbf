"""The Discord-facing layer that every cog shares.

- `gate`: the command tree. One gate for every slash command (ready, stale, busy), the
  acknowledgement that comes before any database or upstream work, and the error handler.
- `errors`: the one error path for slash commands, buttons, selects and forms.
- `replies`: member text shortened and escaped so that every reply fits Discord's limits.
- `permissions`: moderator / owner / requester checks, made when a command runs.
- `options`: option transformers on one base (clip, persona, Producer clip).
- `forms`: the base of every form (modal).
- `jobs`: the start-a-job helper every command that makes something goes through.
- `actions` and `buttons`: what each result button does, as a table, and the persistent
  buttons themselves.

Cogs import from here and never from each other. Delivery, below this layer, never imports it:
`bot.app` hands the poster `buttons.clip_view` to build the buttons under each song.
"""

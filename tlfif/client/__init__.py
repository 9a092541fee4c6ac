"""The client SDK both clients share (the `tlfif` CLI and the desktop window): the typed HTTP
client of the router's API, sign-in and tokens, the stack profile, the job's phase in words,
and the failure table that says what to do about each error."""

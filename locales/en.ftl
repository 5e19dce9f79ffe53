# Texts the service sends one neighbor from the neighborhood's number, in English.
# Every message here exists in every other shipped language, with the same variables
# (a test checks). Texts to the whole group are never translated.
# Variables: $neighborhood is the neighborhood's name.

## Joining by text

# The 6-digit code of a request on the join page.
join-code = { $code } is your code to join { $neighborhood }. It expires in 10 minutes.
# A request by text (JOIN Name) reached the captains.
join-filed = Thanks, { $name }! Your request to join { $neighborhood } is with the captains; you will get a text when you are in.
# JOIN with a name over the limit.
join-name-too-long = That name is { $length } characters long; names are up to { $max }. Reply JOIN with a shorter one, like: JOIN Ana R.
# JOIN with a name that cannot be used.
join-name-invalid = Reply JOIN followed by your name (up to { $max } characters), like: JOIN Ana R.
# JOIN alone.
join-name-missing = Reply JOIN followed by your name, like: JOIN Ana R.
join-invite-only = { $neighborhood } takes new members by invitation only: ask a captain for an invite.
# Anything else from someone not in the group.
number-intro = This number is the { $neighborhood } neighborhood group text. To join, visit { $link } or reply JOIN followed by your name.
number-intro-invite-only = This number is the { $neighborhood } neighborhood group text, by invitation only: ask a captain for an invite.
# The captains blocked the phone.
blocked = Sorry, { $neighborhood } cannot take a request to join from this number.
denied = Thanks for asking to join { $neighborhood }. The captains could not add you this time.
paused = You are paused in the { $neighborhood } group text, so your texts do not reach it. A captain can resume you.
# START after STOP.
rejoined = Welcome back to { $neighborhood }! You are in the group text again.
rejoin-filed = Welcome back! Your request to rejoin { $neighborhood } is with the captains.

## In the group

welcome = Welcome to { $neighborhood }! Texts to this number go to all your neighbors in the group, signed with your name. Reply LEAVE to leave this group, STOP to stop all texts, HELP for help.
# Twilio answers HELP itself on SMS; this answers the words it does not know.
help = { $neighborhood }: texts to this number go to all your neighbors in the group, signed with your name. Reply LEAVE to leave this group, STOP to stop all texts.
help-whatsapp = { $neighborhood }: messages to this WhatsApp number go to all your neighbors in the group, signed with your name. Reply LEAVE to leave this group, STOP to stop all messages.
left = You left { $neighborhood }. Text JOIN and your name to this number to ask to rejoin.
owner-cannot-leave = You own this neighborhood: hand it to another member before leaving (in the admin app).
# STOP on WhatsApp, which Twilio confirms on SMS but not there.
stopped-whatsapp = You will get no more messages from this number. Reply START to get them again.
# ENGLISH, or another language's keyword.
language-set = Done: { $neighborhood } texts you in English from now on.

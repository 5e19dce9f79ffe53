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

## Catching up

# The heading of the last messages in one text, for a new member or a WhatsApp member back in
# their window.
catch-up-heading = { $count ->
    [one] Catch up on { $neighborhood }, the latest message:
   *[other] Catch up on { $neighborhood }, the last { $count } messages:
}
catch-up-link = Catch up on what { $neighborhood } said lately: { $link } (opens once, within 7 days)
# READ on WhatsApp with nothing missed.
whatsapp-up-to-date = You are up to date with { $neighborhood }: its messages reach you here as long as you write at least once a day.

## Notes to members and captains

# A phone already in the group (or paused) was used on the join page.
web-already-in = Someone asked on the web to join { $neighborhood } with this number. You are already in, so nothing changed and there is nothing to do.
web-paused = Someone asked on the web to join { $neighborhood } with this number. You are paused in the group text, so nothing changed: a captain can resume you.
muted = A captain has muted you in this group: your texts do not reach it for now.
announce-only = This group is for announcements: your text went to the captains only.
# Pictures the group does not take: nobody got the message. $size and $max are in MB.
media-too-many = Your message was not sent: a message to the group takes at most { $max } pictures. Send them in a few messages.
media-too-large = Your message was not sent: its pictures come to { $size } MB, and a message to the group takes at most { $max } MB. Send fewer or smaller pictures.
# $type is the file's type, like video/mp4.
media-unsupported = Your message was not sent: the group takes pictures only (JPEG, PNG or GIF), not { $type }.
# A member's text in an announcements-only group, to each captain.
to-the-captains = { $name } (to the captains): { $body }
promoted-moderator = { $actor } made you a moderator of { $neighborhood }. Sign in at { $link } with this phone to see join requests and members.
promoted-captain = { $actor } made you a captain of { $neighborhood }. Sign in at { $link } with this phone to approve neighbors and post announcements.
delivery-paused = Texts to { $name } keep failing (Twilio error { $code }), so they are paused. Resume them in the admin app once their phone works.
budget-warning = { $neighborhood } has used { $percent }% of its { $budget } monthly texting budget ({ $cost } so far this month). At 100% new announcements are held until a captain raises the budget.
budget-reached = { $neighborhood } has reached its { $budget } monthly texting budget ({ $cost } this month). New announcements are held until a captain raises the budget in the admin app; the group chat goes on.
endpoint-disabled = { $neighborhood }: events to { $host } failed for a day, so they are turned off. Turn them on again in Settings of the admin app; nothing since is lost.
sheet-hub-failing = { $neighborhood }: Google has not let us read your Google Sheet for about an hour. We keep trying; Settings in the admin app shows what Google says.
sheet-hub-paused = { $neighborhood }: syncing your Google Sheet stopped: { $code ->
    [revoked] Google access was removed. Connect again
    [forbidden] the sheet is no longer shared with the connected account. Share it again
    [not_found] the spreadsheet is gone. Choose it again
    [range_not_found] its tab was renamed or removed. Save the range again
   *[other] its header row has no name or phone column. Fix it and save
} in Settings of the admin app.
join-request = New join request #{ $number }: { $name }. Reply #approve { $number } or #deny { $number }
join-request-with-address = New join request #{ $number }: { $name }, { $address }. Reply #approve { $number } or #deny { $number }
# $names lists the first five as "#12 Ana R., #13 Bo".
join-requests = { $count } new join requests: { $names }. Reply #pending to list them, #approve N or #deny N.
join-requests-and-more = { $count } new join requests: { $names } and { $more } more. Reply #pending to list them, #approve N or #deny N.

## Replies to captains' #commands

cmd-help = Captain commands: #pending (open requests), #approve 12, #deny 12, #remove Name, #mute Name, #unmute Name.
cmd-usage-number = Give the request's number, like: #approve 12
# $command: remove, mute or unmute.
cmd-usage-name = Give the member's name, like: #{ $command } Ana R.
cmd-not-allowed = Only the neighborhood's captains can use that command.
cmd-no-request = No join request #{ $number }.
cmd-approved = Approved #{ $number }: { $name } is being added to the group.
cmd-approved-already = #{ $number } was approved already.
cmd-denied = Denied #{ $number } ({ $name }); they get a polite text.
cmd-denied-already = #{ $number } was denied already.
cmd-removed = Removed { $name } from the group.
cmd-try-again = Something changed at the same moment; try again.
cmd-none-waiting = No join requests are waiting.
# $list: "#12 Ana R.; #13 Bo".
cmd-waiting = Waiting: { $list }. Reply #approve N or #deny N.
cmd-waiting-more = Waiting: { $list } (and { $more } more in the admin app). Reply #approve N or #deny N.
cmd-over-cap = #{ $number } was listed by an import, and captains added { $cap } such people today: approve it tomorrow, or ask a platform admin.
cmd-unconfirmed = #{ $number } has not confirmed their phone yet.
cmd-already-member = #{ $number }'s phone is a member already.
cmd-archived = This neighborhood is archived.
cmd-no-member = No active member is named "{ $name }". Names are as they appear on the group's texts.
cmd-cannot-mute = You cannot mute { $name }: only someone with a higher role than theirs can.
cmd-muted = { $name } is muted: their texts no longer reach the group.
cmd-unmuted = { $name } is unmuted.

## What a neighbor agrees to on the join page, kept as evidence in the language shown

consent-sms = I agree to receive group text messages from { $neighborhood } neighbors at this number. Message frequency varies. Msg & data rates may apply. Reply LEAVE to leave the group, STOP to stop all texts, HELP for help.
consent-whatsapp = I agree to receive group messages from { $neighborhood } neighbors on WhatsApp at this number. Message frequency varies. Data rates may apply. Reply LEAVE to leave the group, STOP to stop all messages, HELP for help.

## The join page (/join/{slug}). Page messages are plain text and variables, which the page
## fills itself.

page-join-language = Language
page-join-loading = Loading…
page-join-sandbox-banner = Sandbox: no real texts are sent. Codes and texts arrive on the simulated phones.
page-join-simulated-phones = simulated phones
page-join-new-tab = (opens in a new tab)
page-join-not-found-title = Neighborhood not found
page-join-not-found = We can’t find this neighborhood
page-join-not-found-body = The link may be mistyped or out of date. Check it against the one you were sent, or ask the neighbor who shared it for the link again.
page-join-not-found-hint = If a neighborhood’s number texted you, you can also text JOIN and your name to that number.
page-join-closed-title = Neighborhood closed
page-join-closed = This neighborhood is closed
page-join-failed-title = Could not load
page-join-failed = We couldn’t load this page
page-join-try-again = Try again
page-join-policy-approval = A captain looks at each request before letting someone in.
page-join-policy-open = You’re in as soon as you confirm your phone.
page-join-policy-invite-only = This group takes new members by personal invitation.
page-join-invited = You were invited: ask with the phone number your invite was texted to.
page-join-kicker = Neighborhood group text
page-join-title = Join {$neighborhood}
page-join-intro = Everyone texts one number, {$number}, and each text reaches the whole group, signed with the sender’s name. No app needed: any phone that can text works.
page-join-details = Your details
page-join-step-1 = Step 1 of 2
page-join-step-2 = Step 2 of 2
page-join-how = How to join
page-join-invite-only = This neighborhood takes new members by invitation only. Ask a captain for a personal invite link: it is texted to your phone and brings you back here.
page-join-name = Your name
page-join-name-hint = Neighbors see it on your texts, for example “Ana R.”
page-join-phone = Mobile number
page-join-phone-hint = Your own mobile, with its area code. We text a 6-digit code to it.
page-join-phone-hint-whatsapp = Your own mobile, with its area code. We send a 6-digit code to it, by text or on WhatsApp as you choose below.
page-join-address = Street address
page-join-address-hint = Optional. Only the captains see it.
page-join-optional = Optional.
page-join-channel = How you get the group’s messages
page-join-channel-sms = Text messages (SMS)
page-join-channel-sms-hint = Any phone that can text. Messages come from {$number}.
page-join-channel-whatsapp = WhatsApp
page-join-channel-whatsapp-hint = In the WhatsApp app. Messages come from {$number} on WhatsApp, and so does your code.
page-join-required = Fields marked * are required.
page-join-send-code = Text me a code
page-join-send-code-whatsapp = Send me a code on WhatsApp
page-join-fix-one = Please fix the field marked below.
page-join-fix-many = Please fix the {$count} fields marked below.
page-join-enter-phone = Enter your mobile number.
page-join-confirm-title = Confirm your phone
page-join-code = 6-digit code
page-join-code-hint = The code expires in 10 minutes.
page-join-code-hint-whatsapp = It comes in WhatsApp, from the neighborhood’s WhatsApp number. The code expires in 10 minutes.
page-join-confirm = Confirm
page-join-resend = Text me a new code
page-join-resend-whatsapp = Send me a new code
page-join-change = Change my details
page-join-wrong-number = Wrong number?
page-join-code-sent = Enter the code we texted to {$phone}.
page-join-code-sent-whatsapp = Enter the code we sent on WhatsApp to {$phone}.
page-join-code-sandbox = Sandbox: no real message is sent. The code arrives on the simulated phone {$phone} at
page-join-code-sandbox-whatsapp = Sandbox: no real message is sent. The code arrives on the simulated WhatsApp phone {$phone} at
page-join-enter-code = Enter the code from the text.
page-join-enter-code-field = Enter the 6 digits from the text we sent.
page-join-resent = We texted a new code to {$phone}. Use the newest one.
page-join-resent-whatsapp = We sent a new code on WhatsApp to {$phone}. Use the newest one.
page-join-in-title = You’re in
page-join-sent-title = Request sent
page-join-in = You’re in, {$name}!
page-join-in-next = Your welcome text is on its way. From now on, what you text to the number reaches the whole group.
page-join-in-next-whatsapp = Your welcome is waiting for you on WhatsApp. From now on, what you write to the group’s WhatsApp number reaches the whole group.
page-join-pending = Thanks, {$name}: your phone is confirmed
page-join-pending-next = A captain will review your request. When they let you in, you’ll get a welcome text from the group’s number, and from then on what you text to it reaches the whole group.
page-join-pending-next-whatsapp = A captain will review your request. When they let you in, your welcome waits for you on WhatsApp, and from then on what you write to the group’s WhatsApp number reaches the whole group.
page-join-request = Your request
page-join-next = What happens next
page-join-tip-number = The number to text:
page-join-tip-save = . Save it in your contacts as “{$neighborhood}”.
page-join-tip-leave = Text LEAVE to that number to leave the group at any time.
page-join-tip-stop = Text STOP to stop all texts from this service, or HELP for help.
page-join-tip-whatsapp-number = The group’s WhatsApp number:
page-join-opens-whatsapp = (opens WhatsApp)
page-join-tip-read-in = WhatsApp tells you there are new messages in the group: reply READ to read them. After a day without writing to the group, you get that notice again instead of every message.
page-join-tip-read-pending = When you are in, WhatsApp tells you there are new messages in the group: reply READ to read them. After a day without writing to the group, you get that notice again instead of every message.
page-join-tip-whatsapp-leave = Write LEAVE to that number to leave the group at any time, STOP to stop all messages, or HELP for help.
page-join-done-sandbox = Sandbox: texts to and from this phone appear at

## The catch-up page (/history/{id}/{code})

page-history-title = Catch up on {$neighborhood}
page-history-intro = The latest messages of the group, oldest first. This link works once: keep this page open while you read.
page-history-list = Latest messages, oldest first
page-history-photo = Photo from {$name}
page-history-after = New messages arrive by text, like the rest of the group.
page-history-gone-title = Link no longer opens
page-history-gone = This link no longer opens

## The join endpoints' answers (the join page shows them): refused fields, the request's state
## and errors, said in the language the neighbor asked in. Not texts: never sent as SMS.

input-name-blank = Give a name neighbors will see.
input-name-too-long = A name has at most { $max } characters.
input-name-one-line = A name is one line of text.
input-name-invisible = A name cannot hold invisible characters (zero-width, direction marks or the like).
input-address-too-long = An address has at most { $max } characters.
input-phone-invalid = `{ $phone }` is not a phone number we can text.
# $languages lists the codes, like "en, es".
input-language-unknown = `{ $tag }` is not one of the languages we text in: { $languages }.
input-answer-unknown = This neighborhood asks no such question.
input-answer-missing = Answer "{ $question }" to ask to join.
input-answer-too-long = An answer has at most { $max } characters.
input-consent = Agree to receive the group's texts to join.
# $field is the request's field name, like `phone`; $message says what is wrong with it.
api-invalid-field = `{ $field }` is invalid: { $message }
api-invalid-fields = { $count } fields are invalid; see details.
api-join-code-sent = We texted you a 6-digit code: enter it to confirm your phone.
api-join-code-sent-whatsapp = We sent you a 6-digit code on WhatsApp: enter it to confirm your phone.
api-join-pending = Your phone is confirmed. A captain will look at your request; you will get a text when you are in.
api-join-approved = You are in: texts to the neighborhood number go to the whole group.
api-join-denied = A captain declined this request.
api-join-code-wrong = That code is wrong, expired or used. Ask to join again for a new one.
api-join-already-member = This phone is already in the group.
api-join-paused = This phone is paused in the group: a captain can resume it.
api-join-blocked = This phone cannot ask to join this neighborhood.
api-join-changed = The request changed meanwhile; try again.
api-join-no-whatsapp = This neighborhood takes requests on the web for SMS only; to be in it on WhatsApp, write JOIN and your name to its WhatsApp number, or ask a captain.
api-join-texts-paused = This neighborhood cannot text more codes today. Please try again tomorrow, or ask a neighbor in the group to tell a captain.
api-country-refused = We can only text phone numbers from { $countries }. Please use a number from there.
api-country-us = the US
api-country-ca = Canada
# "GB, IE or FR": $first lists all but the last.
api-countries-or = { $first } or { $last }
api-invite-only = This neighborhood takes new members by invitation only: ask a captain for a personal invite link.
api-neighborhood-closed = The neighborhood is archived: it takes no new members and can no longer change.
api-rate-limited = Too many tries; wait { $seconds } s and try again.
api-store-unavailable = The database is unreachable; try again shortly.
api-store-full = The database is full and takes no changes for now; nothing was changed. Try again later.
api-internal = Internal error.

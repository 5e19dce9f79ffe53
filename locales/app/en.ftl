# The captains' admin app (ui/app), in English. Every message is plain text and variables
# (no selects or functions: the browser fills them itself), and every id starts with app-.
# A message that counts comes in two, -one and -other, picked in the app by the number.
# Another language's file here has exactly these messages with the same variables (a test
# checks); until a language has one, the app shows this one.

## Shared with the public pages (their forms and API calls use the same modules)

app-shared-network = Could not reach the server. Check your connection and try again.
app-shared-status = The server answered with status { $status }. Please try again.
app-shared-failed = Something went wrong. Please try again.
# The button that closes a short note at the bottom of the screen.
app-shared-dismiss = Dismiss
app-shared-just-now = just now
app-shared-copy = Copy
app-shared-copied = Copied
app-shared-copy-by-hand = Selected: press Ctrl+C (or ⌘C) to copy
# A field error the API gave without a field on the form: the field's name, then the error.
app-shared-field-error = { $field }: { $message }

## Live updates (the note beside a neighborhood's name)

app-live-unavailable = Live updates are not available in this browser; reload to see changes.
app-live-on = Live
app-live-paused = Live updates paused; retrying…
app-live-reconnecting = Reconnecting…

## What a neighborhood's texting cost this month ($cost and $budget are dollar amounts, "$1.23")

app-cost = { $cost } this month
app-cost-held = { $cost } this month, announcements held
app-cost-budget = { $cost } this month of a { $budget } budget
app-cost-budget-held = { $cost } this month of a { $budget } budget, announcements held

## The frame around every page

# The browser tab's title: the page's, then the service's name.
app-shell-title = { $page } · neighborhood-text
app-shell-title-home = neighborhood-text
app-shell-skip = Skip to content
# The navigation with the links below (a screen reader names it).
app-shell-account = Account
app-shell-neighborhoods = Neighborhoods
app-shell-api = API
app-shell-sign-out = Sign out
app-shell-sign-out-title = Sign out of this browser
app-shell-sign-out-everywhere = Sign out everywhere
app-shell-sign-out-everywhere-title = End every session of this phone, on every device
# $sandbox is app-shell-sandbox in bold, $phones a link reading app-shell-simulated-phones.
app-shell-sandbox-banner = { $sandbox } Twilio is emulated and no real text messages are sent. Texts arrive on the { $phones }.
app-shell-sandbox = Sandbox:
app-shell-simulated-phones = simulated phones
app-shell-loading = Loading…
app-shell-not-found-title = Not found
app-shell-not-found = Page not found
app-shell-back-home = Back to your neighborhoods
app-shell-failed = This page could not load
app-shell-session-ended = Your session ended. Please sign in again.

## Sign in

app-signin-title = Sign in
app-signin-intro = Captains run their neighborhood here. We text a code to your phone; no password.
# $phone is the sandbox's platform admin, "+1 555 000 0001".
app-signin-sandbox-admin = Sandbox: { $phone } is a platform admin, ready to try.
app-signin-phone = Your phone
app-signin-phone-hint = The phone of a captain or admin, in international format, e.g. +1 555 010 0123.
app-signin-send = Text me a code
app-signin-sent = If this phone belongs to a captain or admin, a code is on its way to { $phone }.
# $phone is the phone in bold, $page a link reading app-signin-sandbox-page.
app-signin-sandbox-sent = Sandbox: the code arrives on the simulated phone { $phone } at { $page }.
app-signin-sandbox-page = the simulated phones page
app-signin-code = Code from the text
app-signin-code-hint = Six digits. The code works for 10 minutes.
app-signin-submit = Sign in
app-signin-resend = Text me a new code
app-signin-resent = A new code is on its way to { $phone }; the one before no longer works.
app-signin-other-phone = Use another phone

## Home: the captain's neighborhoods

app-home-title = Your neighborhoods
app-home-create = Create a neighborhood
app-home-empty-admin = No neighborhood yet. Create the first one: it gets its own number to text.
app-home-empty = You hold no role in a neighborhood yet. Ask its captain to make you one.
# A badge after the number of an archived neighborhood.
app-home-archived = archived
app-home-members = Members
# The members in the group, on Home and atop the Members tab alike.
app-members-count-one = { $count } member
app-members-count-other = { $count } members
app-members-count-paused-one = { $count } member, { $paused } paused
app-members-count-paused-other = { $count } members, { $paused } paused
app-home-waiting = Waiting
app-home-requests-one = { $count } join request
app-home-requests-other = { $count } join requests
app-home-no-requests = No join requests
app-home-group-text = Group text
# Phones on the group text; past 50, Twilio carries them in several linked threads ($groups).
app-home-places-one = { $count } phone on the group text
app-home-places-other = { $count } phones on the group text
app-home-places-threads-one = { $count } phone on the group text, carried in { $groups } linked threads (50 each at most)
app-home-places-threads-other = { $count } phones on the group text, carried in { $groups } linked threads (50 each at most)
app-home-today-label = Today
app-home-today = { $sent } of { $cap } one-to-one texts today
app-home-today-paused = Daily limit of { $cap } one-to-one texts reached: join codes and welcomes resume at midnight UTC
app-home-today-service-paused = The service reached its daily limit of one-to-one texts: join codes and welcomes resume at midnight UTC
app-home-cost = Cost
app-home-attention = Attention
app-home-sync-failed-one = { $count } member could not be added to or taken off the group text
app-home-sync-failed-other = { $count } members could not be added to or taken off the group text

## Create a neighborhood (platform admins)

app-create-title = Create a neighborhood
app-create-name = Name
app-create-name-hint = Neighbors see it in texts, e.g. "Elm Street".
app-create-description = Description
app-create-description-hint = Shown on the join page. Optional.
app-create-area-code = Area code for its number
app-create-area-code-hint = Three digits, e.g. 415. A number is bought there (emulated in the sandbox).
app-create-owner-name = Your name on texts
app-create-owner-name-hint = Neighbors see it in front of what you send, e.g. "Ana: ...".
app-create-submit = Create neighborhood
app-create-cancel = Cancel

## The flyer to print

app-flyer-title = Flyer · { $neighborhood }
app-flyer-back = Back to Invite
app-flyer-print = Print
app-flyer-fits = Fits one Letter or A4 page. Only the flyer below is printed.
app-flyer-invite-only-note = This neighborhood is invite-only: people who scan this code can read about it, but only invited phones can ask to join.
# The flyer itself, for a screen reader.
app-flyer-label = Flyer
app-flyer-kicker = Neighborhood group text
# The picture of the QR code ($url is the join link it opens), on the flyer and in Invite.
app-qr-alt = QR code that opens the join page { $url }
app-flyer-scan = Scan with your phone camera to join.
# $join is app-join-keyword in bold; $number the neighborhood's number, on a line of its own.
app-flyer-cta = Or text { $join } and your name to{ $number }
# The word neighbors text to ask to join, as the texts in their language name it.
app-join-keyword = JOIN
# $how is one of the three app-flyer-how- sentences below.
app-flyer-fine = One number for the whole neighborhood: text it and everyone in the group gets your message, with your name. { $how } Text LEAVE at any time to leave. Message and data rates may apply.
app-flyer-how-approval = A neighbor who runs the group approves each request.
app-flyer-how-open = You are in as soon as you confirm your phone.
app-flyer-how-invite-only = This group is invite-only.

## One neighborhood: its header and tabs

# Under its name: its number and who may post ($mode is one of the two below).
app-hood-subline = Text { $number } · { $mode }
app-hood-mode-open = everyone can post
app-hood-mode-announce-only = announcements only
app-hood-archived = archived
# The browser tab's title: the open tab's label ($tab), the neighborhood; with join requests
# waiting, their number first.
app-hood-title = { $tab } · { $neighborhood }
app-hood-title-waiting = ({ $count }) { $tab } · { $neighborhood }
# The tabs' navigation, for a screen reader.
app-hood-nav = Neighborhood
# Each tab's label, and its short one for the bar at the bottom of a phone.
app-hood-tab-requests = Join requests
app-hood-tab-requests-short = Requests
app-hood-tab-requests-waiting = Join requests ({ $count })
app-hood-tab-requests-short-waiting = Requests ({ $count })
app-hood-tab-members = Members
app-hood-tab-members-short = Members
app-hood-tab-messages = Messages
app-hood-tab-messages-short = Messages
app-hood-tab-invite = Invite
app-hood-tab-invite-short = Invite
app-hood-tab-data = Import & export
app-hood-tab-data-short = Import
app-hood-tab-settings = Settings
app-hood-tab-settings-short = Settings
app-hood-tab-audit = Audit log
app-hood-tab-audit-short = Audit
# The phone's button to the other tabs; when one of those is open, it shows that tab's short
# label, and a screen reader hears this.
app-hood-more = More
app-hood-more-current = { $tab } (more pages)

## Join requests

app-requests-title = Join requests
app-requests-show = Show
app-requests-state-pending = Waiting
app-requests-state-verification = Waiting for their code
app-requests-state-approved = Approved
app-requests-state-denied = Denied
app-requests-search = Search
app-requests-search-placeholder-captain = Name or phone digits
app-requests-search-placeholder = Name
app-requests-sort = Sort
app-requests-sort-newest = Newest first
app-requests-sort-oldest = Oldest first
app-requests-sort-name = Name, A to Z
app-requests-select-all = Select all shown
# A request's heading: its number and the neighbor's name.
app-requests-heading = #{ $number } { $name }
# How the request came in.
app-requests-channel-web = Asked on the join page
app-requests-channel-sms = Texted the number
app-requests-channel-invite = Came through an invite
app-requests-channel-import = Imported
app-requests-channel-captain = Added by a captain
app-requests-channel-form = Google Form
# What captains should know before deciding ($who names a captain, $what says when and why).
app-requests-flag-blocked = Blocked phone (by { $who })
app-requests-flag-paused = Paused member: { $what }
app-requests-flag-removed = Removed before: { $what }
app-requests-flag-denied = Denied before, { $date } by { $who }
app-requests-flag-same-name = Same name as member { $name }
# The button that opens a request's details; a screen reader hears app-requests-details-for after it.
app-requests-details = Details
app-requests-details-for = for { $name }
app-requests-phone = Phone
app-requests-asked = Asked
app-requests-agreed = Agreed to
# The consent they agreed to, and when.
app-requests-agreed-text = { $consent } ({ $when })
app-requests-decided = Decided
app-requests-decided-text = { $when } by { $who }
# Who decided, when it was not a captain's phone.
app-requests-by-token = an API token
app-requests-by-policy = the open join policy
app-requests-approve = Approve
app-requests-approve-label = Approve { $name }
app-requests-deny = Deny
app-requests-deny-label = Deny { $name }
app-requests-block = Block
app-requests-block-label = Block { $name }'s phone
app-requests-block-confirm = Block { $phone }? Its requests to join will be refused from now on, and captains will not be told.
# The reason the audit log gives for the denial that blocking a phone makes.
app-requests-blocked-reason = Blocked the phone
app-requests-select = Select { $name }
app-requests-approve-selected = Approve selected ({ $count })
app-requests-deny-selected = Deny selected ({ $count })
# Asking before a denial: $who is a name, or app-requests-neighbors for several.
app-requests-deny-title = Deny { $who }?
app-requests-deny-text = { $name } gets a polite text: “Thanks for asking to join { $neighborhood }. The captains could not add you this time.” The reason, if you give one, is not texted.
app-requests-deny-many-text = Each gets a polite text: “Thanks for asking to join { $neighborhood }. The captains could not add you this time.” The reason, if you give one, is not texted.
app-requests-approve-title = Approve { $who }?
app-requests-approve-many-text = Each gets a welcome text and joins the group text.
app-requests-neighbors = { $count } neighbors
app-requests-approve-count = Approve { $count }
app-requests-deny-count = Deny { $count }
app-requests-reason = Reason (optional)
app-requests-reason-hint = For the captains: it goes in the audit log and is not texted to anyone.
app-requests-cancel = Cancel
# Shown for a few seconds with app-requests-undo; nothing is texted until they go.
app-requests-approved = { $name } is approved and gets a welcome text.
app-requests-denied = { $name }'s request is denied.
app-requests-undo = Undo
app-requests-undone = Undone: { $name } still waits; nothing was sent.
# A decision the API refused: the neighbor's name, then the API's own message.
app-requests-failed = { $name }: { $error }
# Many decided at once; $refused could not be, and $error is the API's reason for the first.
app-requests-approved-many = { $count } approved; each gets a welcome text.
app-requests-approved-many-refused = { $count } approved; each gets a welcome text. { $refused } could not be: { $error }
app-requests-denied-many = { $count } denied; each gets a polite text.
app-requests-denied-many-refused = { $count } denied; each gets a polite text. { $refused } could not be: { $error }
app-requests-no-match = No request matches the search.
# $invite is a link reading app-requests-invite-link.
app-requests-none-waiting = No requests are waiting. { $invite } to get more.
app-requests-invite-link = Invite neighbors
app-requests-nothing = Nothing here.

## Roles, wherever one is named

app-role-member = Member
app-role-moderator = Moderator
app-role-captain = Captain
app-role-owner = Owner

## Members

app-members-title = Members
app-members-search = Search
app-members-search-placeholder-captain = Name, phone or street
app-members-search-placeholder = Name
app-members-status = Status
app-members-any-status = Any status
app-members-role = Role
app-members-any-role = Any role
app-members-sort = Sort
app-members-sort-name = A to Z
app-members-sort-newest = Newest first
app-members-sort-oldest = Oldest first
app-members-matches-one = { $count } member matches
app-members-matches-other = { $count } members match
# The table's caption, for a screen reader: $sort is how it is sorted ("A to Z").
app-members-caption = Members, { $sort }
app-members-select-all = Select all shown
app-members-column-name = Name
app-members-column-street = Street
app-members-column-role = Role
app-members-column-status = Status
app-members-column-texts = Texts
app-members-no-match = No member matches.
app-members-showing = Showing { $shown } of { $total }.
app-members-more = Show { $count } more
# A member no longer on the page, where a name is wanted.
app-members-someone = a member

## One member: the row and the details that open under it

app-member-status-active = In the group
app-member-status-paused = Paused
app-member-status-left = Left
app-member-status-removed = Removed
app-member-status-opted-out = Texted STOP
# Whether Twilio has them on the group text (or, for one who left, off it).
app-member-sync-on = Gets the group text
app-member-sync-off = Off the group text
app-member-sync-adding = Being added to the group text…
app-member-sync-removing = Being taken off the group text…
app-member-sync-add-failed = Could not be added to the group text
app-member-sync-remove-failed = Could not be taken off the group text
# Delivery health: $status is Twilio's word for the last text's fate ("delivered", "failed"),
# $error Twilio's error code, $count how many failed in a row.
app-member-health-none = No texts yet
app-member-health-failing = { $count } failed in a row
app-member-health-last = Last text { $status }
app-member-delivery-none = No texts reported yet
app-member-delivery = Last text { $status }
app-member-delivery-error = Last text { $status } (error { $error })
app-member-delivery-failing = Last text { $status }; { $count } failed in a row
app-member-delivery-error-failing = Last text { $status } (error { $error }); { $count } failed in a row
app-member-duplicate = Possible duplicate of { $name }
app-member-duplicate-address = Possible duplicate of { $name } (same address)
app-member-select = Select { $name }
app-member-whatsapp = WhatsApp
app-member-sms = SMS
app-member-muted = Muted
app-member-close = Close { $name }
app-member-check = Check
app-member-phone = Phone
app-member-channel = Texts by
app-member-address = Address
app-member-role = Role
app-member-group-text = Group text
app-member-texts = Texts
app-member-sync-error = What went wrong
app-member-why = Why
app-member-since = Since
app-member-role-of = Role of { $name }
app-member-change-role = Change role
# $role is the role's code: member, moderator or captain.
app-member-role-changed = { $name } is now { $role }.
app-member-mute = Mute
app-member-unmute = Unmute
app-member-muted-done = { $name } is muted: their texts are held back.
app-member-unmuted-done = { $name } can post again.
app-member-pause = Pause texts
app-member-resume = Resume texts
app-member-paused-done = { $name } is paused.
app-member-resumed-done = { $name } is back in the group.
app-member-move-whatsapp = Move to WhatsApp
app-member-move-sms = Move to SMS
app-member-moved-whatsapp = { $name } now gets the group on WhatsApp.
app-member-moved-sms = { $name } now gets the group by SMS.
app-member-retry = Try again
app-member-retrying = Trying { $name } again.
app-member-remove-from-group = Remove from the group
app-member-notice = Text to { $name } (optional)
app-member-notice-hint = Sent to them alone when they are removed.
app-member-remove = Remove { $name }
app-member-removed = { $name } is removed from the group.

## Changing many members at once

app-bulk-label = Selected members
app-bulk-selected-one = { $count } member selected
app-bulk-selected-other = { $count } members selected
app-bulk-change = Change the selected
app-bulk-pause = Pause texts
app-bulk-resume = Resume texts
app-bulk-make-member = Make member
app-bulk-make-moderator = Make moderator
app-bulk-make-captain = Make captain
app-bulk-remove = Remove from the group
app-bulk-apply = Apply
# $members is app-bulk-members-one or -other.
app-bulk-apply-to = Apply to { $members }
app-bulk-members-one = { $count } member
app-bulk-members-other = { $count } members
app-bulk-clear = Clear selection
app-bulk-cancel = Cancel
app-bulk-remove-title = Remove { $members }?
app-bulk-remove-text = { $names } will be taken out of the group text and listed as removed. They get no text about it. To come back, they ask to join again.
app-bulk-remove-yes = Remove { $members }
# A few names, and how many more: "Ana, Ben, Cy and 7 more".
app-bulk-names-more = { $names } and { $count } more
# What was done; $role is the role's code (member, moderator, captain).
app-bulk-paused-one = Paused { $count } member.
app-bulk-paused-other = Paused { $count } members.
app-bulk-resumed-one = Resumed { $count } member.
app-bulk-resumed-other = Resumed { $count } members.
app-bulk-removed-one = Removed { $count } member.
app-bulk-removed-other = Removed { $count } members.
app-bulk-role-set-one = Changed the role of { $count } member to { $role }.
app-bulk-role-set-other = Changed the role of { $count } members to { $role }.
app-bulk-none-changed = No member was changed.
# $done is one of the sentences above, $reasons the API's reasons for skipping them.
app-bulk-skipped-one = { $done } Skipped { $count } member ({ $names }): { $reasons }
app-bulk-skipped-other = { $done } Skipped { $count } members ({ $names }): { $reasons }

## Messages: the group's history

app-messages-title = Messages
app-messages-search = Search messages
# The history, for a screen reader.
app-messages-list = Messages, newest first
app-messages-older = Show older messages
app-messages-no-match = No message matches.
app-messages-none = No messages yet.
# The sender's name in front of a message, as the group saw it.
app-messages-signed = { $name }:
app-messages-someone = Someone
# A message's picture, for a screen reader and in place of one that does not load: who sent it
# and its size ("48 kB", the browser writes it).
app-messages-photo = Photo from { $name }, { $size }
# One of a message's several pictures.
app-messages-photo-of = Photo { $number } of { $count } from { $name }, { $size }
# Read after a picture's description: its link opens the picture at full size.
app-messages-photo-opens = (opens full size in a new tab)
# A message's file that is not a picture: its link, with its type ("video/mp4") and size.
app-messages-file = File from { $name }: { $type }, { $size }

## Scheduled announcements (Messages, captains)

app-scheduled-title = Scheduled
app-scheduled-list = Scheduled announcements, soonest first
app-scheduled-goes-out = Goes out { $when }
app-scheduled-goes-out-after-quiet = Goes out { $when }, after quiet hours
app-scheduled-urgent = urgent
# Whom it goes to: $who is streets or roles, listed.
app-scheduled-to = to { $who }
app-scheduled-role-members = members
app-scheduled-role-moderators = moderators
app-scheduled-role-captains = captains
app-scheduled-role-owners = owners
app-scheduled-to-chosen-one = to { $count } chosen person
app-scheduled-to-chosen-other = to { $count } chosen people
app-scheduled-edit = Edit
app-scheduled-cancel = Cancel announcement
app-scheduled-cancel-confirm = Cancel this announcement? It will not be sent.
app-scheduled-cancelled = Announcement cancelled.
app-scheduled-text = Text
app-scheduled-send-at = Send at
app-scheduled-send-at-hint = Your local time.
app-scheduled-save = Save
app-scheduled-back = Back
app-scheduled-saved = Scheduled announcement saved.
# The checkbox, on new and scheduled announcements alike.
app-urgent = Urgent (ignore quiet hours)

## The announcement composer (Messages, captains)

app-composer-new = New announcement
app-composer-close = Close
app-composer-to = To
# $people is app-composer-people-one or -other.
app-composer-everyone = Everyone ({ $people })
app-composer-streets = People on a street
app-composer-roles = People with a role
app-composer-members = People I pick
app-composer-streets-legend = Streets
app-composer-roles-legend = Roles
app-composer-members-legend = Members
app-composer-none-yet = None yet.
# A street or role to pick, and how many people it reaches.
app-composer-choice = { $name } ({ $people })
app-composer-role-members = Members
app-composer-role-moderators = Moderators
app-composer-role-captains = Captains
app-composer-role-owner = Owner
app-composer-loading-members = Loading members…
app-composer-find-member = Find a member
app-composer-member-address = { $name }, { $address }
app-composer-people-one = { $count } person
app-composer-people-other = { $count } people
app-composer-segments-one = { $count } segment
app-composer-segments-other = { $count } segments
app-composer-template = Template
app-composer-use-template = Use a template
app-composer-picture = Picture (optional)
app-composer-picture-hint = JPEG, PNG or GIF, up to 5 MB. It goes to everyone, as a picture message.
app-composer-picture-alt = The picture to send
app-composer-picture-remove = Remove the picture
app-composer-picture-uploading = Uploading the picture…
app-composer-picture-ready = Picture ready: it goes with the announcement.
app-composer-picture-wrong-type = Choose a JPEG, PNG or GIF picture: every phone shows those.
app-composer-picture-too-large = This picture is over 5 MB: choose a smaller one.
app-composer-template-name = Template name
app-composer-save-template = Save template
app-composer-save-as-template = Save as template
app-composer-template-saved = Saved the template “{ $name }”.
app-composer-cancel = Cancel
app-composer-body = Announcement
app-composer-body-hint = Texted from { $number }, signed with your name.
app-composer-count = { $count }/{ $max } characters
# The review line as the captain types: $encoding is one of the three below, $reach
# app-composer-people-… or app-composer-nobody, $cost "$1.23".
app-composer-review = { $encoding } · { $reach } · about { $cost }
app-composer-gsm7 = { $segments } (GSM-7)
app-composer-ucs2 = { $segments } (UCS-2)
app-composer-ucs2-because = { $segments } (UCS-2 because of “{ $character }”)
app-composer-nobody = nobody yet
app-composer-type-first = Type the announcement to see what it costs.
app-composer-choose-who = Choose who gets it.
app-composer-when = When
app-composer-now = Send now
app-composer-later = Schedule for a time
app-composer-send-at = Send at
app-composer-send-at-hint = Your local time. Up to a year ahead.
app-composer-choose-time = Choose the day and time to send it.
app-composer-quiet-hint = Quiet hours are { $start } to { $end } ({ $zone }); other announcements wait for them to end.
app-composer-no-quiet-hint = This neighborhood has no quiet hours (Settings).
app-composer-send-everyone = Send to everyone
app-composer-send-chosen = Send to chosen people
app-composer-schedule = Schedule
# The confirm sheet. $reach: "121 people, 2 segments each, about $2.01" (one recipient: no "each").
app-composer-send-title = Send this announcement?
app-composer-schedule-title = Schedule this announcement?
app-composer-send-summary = Text { $reach }
app-composer-schedule-summary = Schedule for { $when }: { $reach }
app-composer-reach = { $people }, { $segments }, about { $cost }
app-composer-reach-each = { $people }, { $segments } each, about { $cost }
app-composer-held-note = The monthly budget is spent: it waits until a captain raises it (Settings, Costs and budget).
app-composer-confirm = Confirm
app-composer-scheduled = Scheduled: it goes out { $when }.
app-composer-quiet-scheduled = Quiet hours: it goes out { $when }.
app-composer-held = The monthly budget is spent: the announcement waits until a captain raises it (Settings, Costs and budget).
# $audience is the API's own words for whom it went to ("to Elm Ave"), $cost "$1.23".
app-composer-sent-to = Announcement sent { $audience } (about { $cost }).
app-composer-sent = Announcement sent to the group (about { $cost }).

## Invite

app-invite-title = Invite neighbors
app-invite-archived = This neighborhood is archived and takes no new members.
app-invite-share = Share the join link
app-invite-invite-only = This neighborhood is invite-only: people can open this link, but only phones that were texted a personal invite can ask to join.
# $join is app-join-keyword in bold, $number the neighborhood's number in bold.
app-invite-anyone = Anyone with the link can ask to join. Or they text { $join } and their name to { $number }.
app-invite-link = Join link
app-invite-qr = Phones open the join page when their camera sees this code.
app-invite-flyer = Print a flyer with this code
app-invite-png = Download the code as a picture (PNG)
app-invite-svg = Download it for print shops (SVG)
app-invite-personal = Text personal invites
app-invite-personal-hint = People who are already members, and numbers listed twice, are skipped.
app-invite-captains-only = Captains can text invites. Share the link or the QR code instead.
app-invite-phones = Phone numbers to invite
app-invite-phones-hint = One per line, or separated by commas. Up to 100 at a time and 200 a day. Each gets a text with a personal join link.
# Examples in the empty box, one per line.
app-invite-phones-placeholder =
    +1 415 555 0123
    (415) 555-0199
app-invite-channel = Send invites by
app-invite-channel-sms = Text message (SMS)
app-invite-channel-sms-hint = From { $number }.
app-invite-channel-whatsapp = WhatsApp
app-invite-channel-whatsapp-hint = From { $number } on WhatsApp, for neighbors who use it.
app-invite-send = Text invites
app-invite-send-whatsapp = Send WhatsApp invites
app-invite-fix-numbers = Nothing was sent: some numbers need fixing.
app-invite-fix-one = Fix this number:
app-invite-fix-other = Fix these { $count } numbers:
# $position counts the numbers typed from 1; $message is the API's, quoting what was typed.
app-invite-number-error = Number { $position }: { $message }
app-invite-none-sent = No invites sent
app-invite-sent-one = { $count } invite is on the way
app-invite-sent-other = { $count } invites are on the way
app-invite-skipped = Skipped { $count }:
# A phone that got no invite, and why ($reason is one of the three below).
app-invite-skipped-phone = { $phone }: { $reason }
app-invite-skip-member = already a member
app-invite-skip-duplicate = listed twice
app-invite-skip-limit = over the limit of 200 invites a day; try again tomorrow

## Import & export

app-data-title = Import & export
app-data-export = Export
app-data-export-hint-captain = Files with a header row and fixed columns. A member export imports back unchanged.
app-data-export-hint = Files with a header row and fixed columns. Phone numbers are left empty for moderators.
# One line per export: $what is one of the four below, $csv and $json links reading app-data-csv and app-data-json.
app-data-export-links = { $what }: { $csv } · { $json }
app-data-export-members = Members
app-data-export-requests = Join requests, with consent evidence
app-data-export-messages = Messages
app-data-export-audit = Audit log
app-data-csv = CSV
app-data-json = JSON
app-data-import = Import from a spreadsheet
app-data-import-hint = A phone already here updates that person; nobody is added twice. Checking changes nothing.
app-data-file = CSV file
app-data-file-hint = Columns name and phone (required), address, and one per join question, as a spreadsheet exports them.
app-data-attest = They agreed to receive the group's texts: add them as members now
app-data-attest-hint = Otherwise each new phone becomes a join request for a captain to approve.
app-data-check = Check the file
app-data-run = Import it
app-data-report-dry-run = Dry run, nothing changed yet. { $rows } rows: { $added } to add, { $updated } to update, { $unchanged } unchanged, { $rejected } rejected.
app-data-report = { $rows } rows: { $added } added, { $updated } updated, { $unchanged } unchanged, { $rejected } rejected.
# $columns lists the file's columns that were not read.
app-data-not-read = Not read: { $columns }.
# One row of the file ($row is its number) and what became of it ($outcome is one below; $reason the API's).
app-data-row = Row { $row }: { $outcome }
app-data-row-reason = Row { $row }: { $outcome } ({ $reason })
app-data-row-added = Added
app-data-row-updated = Updated
app-data-row-unchanged = Unchanged
app-data-row-rejected = Rejected
app-data-row-to-add = To add
app-data-row-to-update = To update
app-data-more-rows = More rows are in the report than shown here.
app-data-imported = Imported: { $added } added, { $updated } updated.

## Audit log

app-audit-title = Audit log
app-audit-hint = Every change made by captains, API tokens, texted commands and Twilio, newest first. Entries are never edited.
app-audit-filters = Filter the audit log
app-audit-what = What
app-audit-kind-any = Every kind of change
app-audit-kind-members = Members
app-audit-kind-requests = Join requests
app-audit-kind-messages = Messages and announcements
app-audit-kind-scheduled = Scheduled announcements
app-audit-kind-neighborhood = Settings and the neighborhood
app-audit-kind-invites = Invites
app-audit-kind-tokens = API tokens
app-audit-kind-endpoints = Event endpoints
app-audit-kind-sheet-hub = Google Sheet
app-audit-who = Who
app-audit-anyone = Anyone
app-audit-older = Load older entries
app-audit-no-match = No entry matches these filters.
app-audit-empty = Nothing has been recorded yet.
app-audit-beginning = That is the beginning of the log.
# Who did it ($who, one of the names below) and how ($source, one of the app-audit-source- phrases).
app-audit-by = By { $who }
app-audit-by-source = By { $who } { $source }
app-audit-source-ip = from { $ip }
app-audit-source-sms = by text message
app-audit-source-cli = on the command line
app-audit-source-webhook = reported by Twilio
app-audit-source-ledger = by the cost ledger
app-audit-source-scheduler = when it was due
app-audit-source-google-sheets = through the Google Sheet
app-audit-former-member = a former member
app-audit-token-named = API token “{ $name }”
app-audit-a-token = an API token
app-audit-this-neighborhood = this neighborhood
app-audit-another-neighborhood = another neighborhood
app-audit-a-request = a join request
app-audit-an-announcement = an announcement
app-audit-you = you ({ $phone })
app-audit-named-phone = { $name } ({ $phone })
app-audit-cli = the command line
app-audit-twilio = Twilio
app-audit-scheduler = the scheduler
# Each kind of entry.
app-audit-neighborhood-create = Created the neighborhood
app-audit-neighborhood-update = Changed the settings
app-audit-neighborhood-archive = Archived the neighborhood
app-audit-neighborhood-sync = Repaired the group text to match Twilio
app-audit-member-add = Added a member
app-audit-member-update = Changed a member
app-audit-member-role-change = Changed a role
app-audit-member-remove = Removed a member
app-audit-bulk-remove-one = Removed { $count } member
app-audit-bulk-remove-other = Removed { $count } members
app-audit-bulk-pause-one = Paused { $count } member
app-audit-bulk-pause-other = Paused { $count } members
app-audit-bulk-resume-one = Resumed { $count } member
app-audit-bulk-resume-other = Resumed { $count } members
# $role is the role's code (member, moderator, captain), or app-audit-another-role.
app-audit-bulk-role-one = Made { $count } member { $role }
app-audit-bulk-role-other = Made { $count } members { $role }
app-audit-another-role = another role
app-audit-member-retry-sync = Retried adding a member at Twilio
app-audit-member-mute = Muted a member
app-audit-member-unmute = Unmuted a member
app-audit-member-added-in-twilio = A member was added in the Twilio console
app-audit-member-removed-in-twilio = A member was removed in the Twilio console
app-audit-ownership-transfer = Handed over ownership
app-audit-request-approve = Approved a join request
app-audit-request-deny = Denied a join request
app-audit-request-approve-many = Approved join requests
app-audit-request-deny-many = Denied join requests
app-audit-invites-send = Texted invites
app-audit-message-announce = Sent an announcement
app-audit-message-hold = Announcement held: the monthly budget is used up
app-audit-message-release = Sent a held announcement
app-audit-budget-alert = Told the captains about the monthly budget
app-audit-announcement-schedule = Scheduled an announcement
app-audit-announcement-update = Changed a scheduled announcement
app-audit-announcement-cancel = Cancelled a scheduled announcement
app-audit-announcement-send = Sent a scheduled announcement
app-audit-token-create = Created an API token
app-audit-token-revoke = Revoked an API token
app-audit-endpoint-create = Added an event endpoint
app-audit-endpoint-delete = Deleted an event endpoint
app-audit-endpoint-rotate-secret = Rotated an event endpoint's secret
app-audit-endpoint-enable = Turned an event endpoint back on
app-audit-endpoint-replay = Replayed events to an endpoint
app-audit-endpoint-disabled = Turned off an event endpoint that kept failing
app-audit-sheet-hub-connect = Connected a Google account for the Google Sheet
app-audit-sheet-hub-configure = Changed the Google Sheet settings
app-audit-sheet-hub-sync = Synced the Google Sheet
app-audit-sheet-hub-disconnect = Disconnected the Google Sheet
app-audit-sheet-hub-paused = Paused syncing the Google Sheet: a captain must fix a problem
app-audit-sheet-hub-sync-failed = A Google Sheet sync failed; it is tried again
# The names of an entry's details.
app-audit-key-count = Invites texted
app-audit-key-shards = Conversations
app-audit-key-release-number = Number released
app-audit-key-notice = Notice texted
app-audit-key-requeued = Changes sent again
app-audit-key-relinked = Members relinked
app-audit-key-removed-strays = Strangers removed
app-audit-key-removed-departed = Departed members removed
app-audit-key-threshold = Share of the budget (%)
app-audit-key-budget = Monthly budget ($)
app-audit-key-cost = Cost so far ($)
app-audit-key-estimate = Estimated cost ($)
app-audit-key-captains-texted = Captains texted
app-audit-key-join-questions = Join questions
app-audit-key-changed = Members changed
app-audit-key-skipped = Members left as they were
app-audit-key-members = Members
app-audit-key-approved = Requests approved
app-audit-key-denied = Requests denied
app-audit-key-who = Who
app-audit-key-reason = Reason (for captains; not texted)
# A detail's values.
app-audit-yes = yes
app-audit-no = no
app-audit-none = none
app-audit-from-to = { $from } → { $to }

## Settings

app-settings-title = Settings
app-settings-archived = { $neighborhood } is archived: its group text has ended and its settings can no longer change. Its API tokens can still be revoked.
# The links to each section, and their list's name for a screen reader.
app-settings-jump = Settings sections
app-settings-jump-neighborhood = Neighborhood
app-settings-jump-quiet = Quiet hours
app-settings-jump-costs = Costs and budget
app-settings-jump-questions = Join questions
app-settings-jump-notices = Join request texts
app-settings-jump-catch-up = Catch-up
app-settings-jump-whatsapp = WhatsApp
app-settings-jump-roles = Captains and moderators
app-settings-jump-tokens = API tokens
app-settings-jump-endpoints = Events for integrators
app-settings-jump-sheet-hub = Google Sheet
app-settings-jump-owner = Hand over
app-settings-jump-archive = Archive
# Who created a token.
app-settings-by-token = the API token “{ $name }”
app-settings-by-a-token = an API token
app-settings-by-cli = the command line
app-settings-by-someone = someone
app-settings-by-you = you
app-settings-unchanged = Nothing has changed.
# After a section saved; $time is the time of day.
app-settings-saved-at = Saved at { $time }.

## Settings: WhatsApp

app-whatsapp-title = WhatsApp
# $number is the sender's number, in bold.
app-whatsapp-on = Neighbors can be in the group on WhatsApp through { $number }. The join page offers it, and you can move a member between SMS and WhatsApp in Members.
app-whatsapp-off = Members get the group by SMS only. Set a WhatsApp sender to let neighbors choose WhatsApp.
app-whatsapp-sender = WhatsApp sender number
app-whatsapp-sender-hint = A number of your Twilio account registered with WhatsApp and added to the Messaging Service, in international format (+1…). Often the neighborhood’s own number. Leave empty to turn WhatsApp off.
app-whatsapp-save = Save WhatsApp sender
app-whatsapp-saved-off = WhatsApp is off.
app-whatsapp-saved = Saved: members can be on WhatsApp through { $number }.

## Settings: how this captain hears of join requests

app-notices-title = Join request texts
app-notices-not-captain = You are not a captain of this neighborhood, so no join request texts reach you.
app-notices-legend = When a neighbor asks to join, text me
app-notices-each = A text for each request
app-notices-each-hint = As soon as each neighbor asks. Busy weeks can mean many texts.
app-notices-15-minutes = A digest at most every 15 minutes
app-notices-15-minutes-hint = One text naming the requests waiting, like “5 new join requests: …”.
app-notices-hourly = A digest at most every hour
app-notices-hourly-hint = The same, at most once an hour.
app-notices-never = No texts
app-notices-never-hint = Check this page, or text #pending to the number.
app-notices-save = Save join request texts
# $choice is the chosen option's label.
app-notices-saved = Saved: { $choice }.

## Settings: quiet hours

app-quiet-title = Quiet hours
app-quiet-none = No quiet hours: announcements go out when they are due, day or night.
# $start and $end are times of day as the browser writes them ("9:00 PM"), $zone "America/Chicago".
app-quiet-summary = Announcements wait from { $start } until { $end } ({ $zone }), unless marked urgent.
app-quiet-summary-now = Announcements wait from { $start } until { $end } ({ $zone }), unless marked urgent. It is quiet hours now.
app-quiet-enabled = Hold announcements during quiet hours
app-quiet-enabled-hint = Scheduled and new announcements wait for the end of quiet hours; urgent ones go at once.
app-quiet-start = Quiet from
app-quiet-end = Until
app-quiet-end-hint = May cross midnight, like { $start } until { $end }.
app-quiet-zone = Time zone
app-quiet-zone-hint = A name like America/Los_Angeles; daylight saving time is followed.
app-quiet-save = Save quiet hours

## Settings: join questions

app-questions-title = Join questions
app-questions-hint = The join page asks these beyond name, phone and address. Captains see the answers with each join request.
app-questions-question = Question { $number }
app-questions-required = Required
app-questions-up = Up
app-questions-down = Down
# A move button's name for a screen reader: $move is app-questions-up or -down.
app-questions-move-label = { $move }: question { $number }
app-questions-remove = Remove
app-questions-remove-label = Remove question { $number }
app-questions-add = Add a question
app-questions-none = No questions: the join page asks only for a name, phone and address.
app-questions-count-one = { $count } question of at most { $max }.
app-questions-count-other = { $count } questions of at most { $max }.
app-questions-blank = Write each question, or remove the empty one.
app-questions-blank-field = Write the question, or remove it.
app-questions-save = Save questions

## Settings: archiving and deleting (the owner)

app-archive-title = Archive the neighborhood
# $warning is app-archive-warning, in bold.
app-archive-text = Archiving ends the group text for good: its conversations at Twilio are closed, members stop receiving the group's texts, and nothing here can change any more. { $warning }
app-archive-warning = It cannot be undone.
app-archive-number = Its phone number
app-archive-keep = Keep the number
app-archive-keep-hint = It stays in the Twilio account (and keeps costing its monthly rent) and can be given to a new neighborhood.
app-archive-release = Release the number
app-archive-release-hint = It goes back to Twilio and stops costing money. It cannot be recovered.
app-archive-farewell = Farewell text (optional)
app-archive-farewell-hint = Texted to the whole group before it closes, signed “{ $neighborhood }:”.
app-closing-type-name = Type “{ $name }” to confirm
app-closing-type-exactly = Type “{ $name }” exactly as shown.
app-archive-submit = Archive neighborhood
app-archive-not-yet = Not archived yet:
app-archive-done = { $neighborhood } is archived.
app-delete-title = Delete the neighborhood
# $warning is app-delete-warning, in bold.
app-delete-text = Deleting removes its members, join requests, message history and audit log from this service, deletes its conversations at Twilio and releases its number unless another neighborhood uses it. { $warning }
app-delete-warning = Nothing can be recovered.
app-delete-submit = Delete everything
app-delete-done = { $neighborhood } is deleted.

## Settings: API tokens

app-tokens-title = API tokens
# $api is a link reading app-tokens-api-link.
app-tokens-hint = For scripts and other services that use the { $api } for this neighborhood. Send a token as “Authorization: Bearer …”.
app-tokens-api-link = REST API
app-tokens-heading = Tokens for this neighborhood
app-tokens-none = No working tokens.
app-tokens-inactive = Revoked and expired ({ $count })
# A token for the whole platform rather than one role here.
app-tokens-platform = Platform
app-tokens-badge-revoked = revoked
app-tokens-badge-expired = expired
# Under each token: $who is one of the app-settings-by- names, or a phone.
app-tokens-created = Created { $when } by { $who }.
app-tokens-last-used = Last used { $when }.
app-tokens-never-used = Never used.
app-tokens-revoked-at = Revoked { $when }.
app-tokens-expires = Expires { $when }.
app-tokens-expired = Expired { $when }.
app-tokens-never-expires = Never expires.
app-tokens-revoke = Revoke
app-tokens-revoke-label = Revoke { $name }
app-tokens-revoke-confirm = Revoke “{ $name }”? Anything using it stops working at once.
app-tokens-revoked = “{ $name }” is revoked.
app-tokens-create-heading = Create a token
app-tokens-name = What it is for
app-tokens-name-hint = e.g. “newsletter sync”. 1 to 80 characters.
app-tokens-role = What it may do
app-tokens-role-hint = Moderator: read members, requests and messages. Captain: also change them. Give the least it needs.
app-tokens-expires-at = Stops working after
app-tokens-expires-at-hint = Optional. Leave empty for a token that works until revoked.
app-tokens-create = Create token
app-tokens-secret-title = Token “{ $name }” created
# $warning is app-tokens-secret-warning, in bold.
app-tokens-secret-text = { $warning } Store it where your script can read it, like a password.
app-tokens-secret-warning = Copy it now: it won't be shown again.
app-tokens-secret = Token
app-tokens-copied = I have copied it

## Settings: events for integrators (endpoints that the neighborhood's events are posted to)

app-endpoints-title = Events for integrators
app-endpoints-hint = Your own tools can hear what happens here: each event you pick is posted as JSON to an address of yours, signed so that your server can tell it came from here. An endpoint that keeps failing for a day is turned off.
app-endpoints-heading = Endpoints for this neighborhood
app-endpoints-none = No endpoints yet.
# What each event type means, beside its name for programs ($type, e.g. member.joined).
app-endpoints-event-label = { $what } ({ $type })
app-endpoints-event-member-joined = Someone joined
app-endpoints-event-member-left = A member left
app-endpoints-event-member-removed = A captain removed a member
app-endpoints-event-member-opted-out = A member texted STOP
app-endpoints-event-join-request-created = Someone asked to join
app-endpoints-event-join-request-decided = A join request was approved or denied
app-endpoints-event-message-posted = A member wrote to the group
app-endpoints-event-announcement-sent = An announcement went out
app-endpoints-event-budget-alert = The month's texting cost neared the budget
# Under each endpoint: $events is a list of app-endpoints-event-label.
app-endpoints-events = Sent: { $events }.
app-endpoints-created = Added { $when }.
app-endpoints-previous-secret = The previous secret signs too until { $when }.
app-endpoints-badge-disabled = turned off
app-endpoints-disabled = Turned off after a day of failed deliveries: nothing is sent to it until it is enabled again.
app-endpoints-disabled-reason = Turned off: { $reason }
app-endpoints-test = Send test event
app-endpoints-test-label = Send test event to { $url }
app-endpoints-test-sending = Sending a test event…
app-endpoints-test-delivered = Delivered: the endpoint answered HTTP { $status } in { $ms } ms.
app-endpoints-test-refused = Not delivered: the endpoint answered HTTP { $status } in { $ms } ms.
# $answer is the first characters of what the endpoint answered.
app-endpoints-test-said = It said: { $answer }
# $why says what went wrong (no connection, a timeout, a refused address).
app-endpoints-test-no-answer = Not delivered: no answer after { $ms } ms ({ $why }).
app-endpoints-deliveries = Deliveries
app-endpoints-deliveries-label = Deliveries to { $url }
app-endpoints-deliveries-caption = Latest deliveries to { $url }, newest first
app-endpoints-deliveries-none = Nothing delivered yet.
app-endpoints-col-time = Time
app-endpoints-col-event = Event
app-endpoints-col-attempt = Attempt
app-endpoints-col-status = Status
app-endpoints-col-latency = Latency
app-endpoints-col-answer = Answer
app-endpoints-http = HTTP { $status }
app-endpoints-no-answer = no answer
app-endpoints-ms = { $ms } ms
app-endpoints-rotate = Rotate secret
app-endpoints-rotate-label = Rotate secret of { $url }
app-endpoints-rotate-confirm = Make a new signing secret for { $url }? The current one keeps signing deliveries for 24 hours while your server switches.
app-endpoints-rotated-title = New signing secret for { $url }
app-endpoints-rotated-text = Deliveries are signed with it from now on, and with the old one too until { $when }: switch your server over before then.
app-endpoints-enable = Enable again
app-endpoints-enable-label = Enable again { $url }
app-endpoints-enabled = { $url } is on again.
app-endpoints-replay-summary = Replay since…
app-endpoints-replay-since = Send again every event since
app-endpoints-replay-hint = For an endpoint that was down or turned off: each event since then is posted again.
app-endpoints-replay = Replay
app-endpoints-replay-label = Replay events to { $url }
app-endpoints-replay-pick = Pick the date and time to replay from.
# After a replay: how many events since then were put back in line to be sent again.
app-endpoints-replaying-none = No events since { $when } to send to { $url } again.
app-endpoints-replaying-one = { $count } event since { $when } put back in line: it is sent to { $url } again.
app-endpoints-replaying-other = { $count } events since { $when } put back in line: they are sent to { $url } again, in order.
app-endpoints-delete = Delete
app-endpoints-delete-label = Delete { $url }
app-endpoints-delete-confirm = Delete the endpoint { $url }? Nothing more is sent to it, and its delivery log goes too.
app-endpoints-deleted = { $url } is deleted.
app-endpoints-create-heading = Add an endpoint
app-endpoints-url = URL
app-endpoints-url-hint = An https address on the public internet that takes POSTed JSON.
app-endpoints-events-legend = Events to send
app-endpoints-description = Description
app-endpoints-description-hint = Optional: a note for yourself, such as which tool it feeds. At most 200 characters.
app-endpoints-create = Add endpoint
app-endpoints-secret-title = Endpoint { $url } added
app-endpoints-secret-warning = Copy the signing secret now: it won't be shown again.
app-endpoints-secret-text = Your server needs it to check that each delivery came from here.
app-endpoints-secret = Signing secret
app-endpoints-verify-hint = To check a delivery, give this secret to any Standard Webhooks library: its webhook-signature header is an HMAC-SHA256 of the webhook-id header, the webhook-timestamp header and the body. See “Events for integrators” in the README.
app-endpoints-copied = I have copied it

## Settings: the spreadsheet hub (a Google Sheet or a Google Form's responses kept in sync)

app-sheet-hub-title = Google Sheet
app-sheet-hub-hint = Keep the group in step with a Google Sheet: a list of your people, or the responses of a Google Form. New rows become join requests (or members, if you say they agreed), changed rows update people here, and nobody is ever removed because a row went away.
app-sheet-hub-unavailable = Google Sheets cannot be connected yet: the operator of this service has not set up Google. To set it up they create an OAuth client at Google and register this redirect URI on it.
app-sheet-hub-redirect-uri = Redirect URI
app-sheet-hub-redirect-uri-hint = For the operator: the Authorized redirect URI of the OAuth client, exactly as shown.
app-sheet-hub-not-connected = No Google account is connected. Connecting opens Google, where you choose the account that can open your sheet and allow read-only access to your spreadsheets; then you come back here.
app-sheet-hub-connect = Connect a Google Sheet
app-sheet-hub-reconnect = Connect again
# After Google sends the captain back here (shown once).
app-sheet-hub-connected-now = Google account connected. Now paste the spreadsheet's link below and save.
app-sheet-hub-connect-denied = Not connected: access was not allowed on Google's page. Press “Connect a Google Sheet” again and choose Allow.
app-sheet-hub-connect-expired = Not connected: that attempt had expired or was already used. Press “Connect a Google Sheet” to start again.
app-sheet-hub-connect-refused = Not connected: Google refused to finish the connection. Try again; if it keeps failing, tell the operator of this service.
app-sheet-hub-connect-failed = Not connected: something went wrong on the way back from Google. Try again.
app-sheet-hub-connected-by = Connected by
# $who is who connected it (app-settings-by-… or a phone), $when a date and time.
app-sheet-hub-by-when = { $who }, { $when }
app-sheet-hub-spreadsheet-fact = Spreadsheet
app-sheet-hub-consent-fact = Consent question
app-sheet-hub-open-sheet = Open it in Google Sheets
app-sheet-hub-last-sync = Last sync
app-sheet-hub-when-captain = { $when }, by a captain
app-sheet-hub-when-schedule = { $when }, on schedule
app-sheet-hub-never = Not yet
app-sheet-hub-next-sync = Next sync
app-sheet-hub-paused-badge = Paused until a captain fixes the problem above
app-sheet-hub-next-none = After the first “Sync now”: syncing on schedule starts with it
app-sheet-hub-next-unset = Once a spreadsheet is saved
app-sheet-hub-paused = Syncing is paused since { $when }.
app-sheet-hub-trouble = The last sync failed ({ $when }).
app-sheet-hub-problem-revoked = Google no longer lets this service read the sheet: access was removed from the Google account, or it expired. Connect again to resume syncing.
app-sheet-hub-problem-forbidden = The connected Google account cannot open this spreadsheet. Share the spreadsheet with that account (Viewer is enough), or connect an account that can open it; then press Save to resume.
app-sheet-hub-problem-not-found = No spreadsheet has this link: it was deleted, or the link is wrong. Paste the right link and press Save to resume.
app-sheet-hub-problem-range-not-found = The spreadsheet has no sheet or range by that name: was a tab renamed? Correct the range and press Save to resume.
app-sheet-hub-problem-header = The first row of the sheet must name the columns, with a name and a phone column at least. Fix that row, then press Save to resume.
app-sheet-hub-problem-rate-limited = Google asked for fewer requests for a while. Nothing to do: the next sync tries again.
app-sheet-hub-problem-unavailable = Google did not answer. Nothing to do: the next sync tries again.
# $message is the service's own description of the problem.
app-sheet-hub-problem-said = Details: { $message }
app-sheet-hub-last-heading = The last sync
app-sheet-hub-sheet-unchanged = The sheet had not changed since the sync before, so nothing was read again.
app-sheet-hub-counts = { $rows } rows: { $added } added, { $updated } updated, { $unchanged } unchanged, { $rejected } rejected.
app-sheet-hub-held-back-one = Of the rejected, { $count } new member is past today's additions for captains: a sync on another day adds them.
app-sheet-hub-held-back-other = Of the rejected, { $count } new members are past today's additions for captains: a sync on another day adds them.
app-sheet-hub-removed-one = { $count } phone of the sync before is no longer in the sheet. Nothing is removed automatically: if they should leave the group, remove them in Members.
app-sheet-hub-removed-other = { $count } phones of the sync before are no longer in the sheet. Nothing is removed automatically: if they should leave the group, remove them in Members.
app-sheet-hub-removed-list = Phones no longer in the sheet
app-sheet-hub-removed-more = And { $count } more.
app-sheet-hub-settings-heading = What to read
app-sheet-hub-spreadsheet = Spreadsheet link
app-sheet-hub-spreadsheet-hint = Copy it from the address bar while the spreadsheet is open (docs.google.com/spreadsheets/d/…), or paste its ID.
app-sheet-hub-range = Sheet or range
app-sheet-hub-range-hint = The tab's name for all of it, such as Sheet1, or a range such as 'Form Responses 1'!A1:Z. Its first row names the columns: name and phone, and address and the join questions if you have them.
app-sheet-hub-mode = What the sheet is
app-sheet-hub-mode-roster = A list of people
app-sheet-hub-mode-roster-hint = One row per person. A new row adds them, an edited row updates them here.
app-sheet-hub-mode-form = A Google Form's responses
app-sheet-hub-mode-form-hint = One row per response. Each new response becomes a join request, and captains are told as for the join page.
app-sheet-hub-attest = I confirm that everyone in this sheet agreed to get this group's texts: add new rows as members at once
app-sheet-hub-attest-hint = You answer for this, and the audit log records it. Leave it unticked and each new row becomes a join request for a captain to approve.
app-sheet-hub-consent-question = Consent question (exactly as your form asks it)
app-sheet-hub-consent-question-hint = Copy it from the form word for word: it heads its column in the response sheet. Only responses that agreed become join requests, and each keeps this question as its consent.
app-sheet-hub-interval = Sync every (minutes)
app-sheet-hub-interval-hint = From 5 to 1440 (a day). An unchanged sheet costs one quick request.
app-sheet-hub-save = Save
app-sheet-hub-actions-heading = Preview and sync
app-sheet-hub-actions-hint = Both read the saved spreadsheet: save your changes first. A preview changes nothing.
app-sheet-hub-save-first = Save a spreadsheet link to preview or sync it.
app-sheet-hub-preview = Preview
app-sheet-hub-sync = Sync now
app-sheet-hub-disconnect = Disconnect
app-sheet-hub-previewing = Reading the sheet…
app-sheet-hub-syncing = Syncing…
app-sheet-hub-synced = Synced: { $added } added, { $updated } updated.
app-sheet-hub-synced-unchanged = Synced: the sheet had not changed.
app-sheet-hub-disconnect-confirm = Disconnect the Google Sheet? Syncing stops and this service's access to the Google account is revoked at Google. The people already here stay.
app-sheet-hub-disconnected = Google Sheet disconnected.
app-sheet-hub-preview-heading = Preview
app-sheet-hub-preview-counts = Preview, nothing changed yet. { $rows } rows: { $added } to add, { $updated } to update, { $unchanged } unchanged, { $rejected } rejected.
app-sheet-hub-preview-members = New rows would become members (you confirmed they agreed).
app-sheet-hub-preview-requests = New rows would become join requests for a captain to approve.
app-sheet-hub-preview-responses = Each new response that agreed would become a join request for a captain to approve. Responses read before are not filed again.
app-sheet-hub-preview-warnings = Columns not read:
app-sheet-hub-preview-warning = { $column }: { $message }
app-sheet-hub-preview-rows = Rows of the preview
app-sheet-hub-row = Row { $row }: { $outcome }
app-sheet-hub-row-reason = Row { $row }: { $outcome } ({ $reason })
app-sheet-hub-row-phone = Row { $row }, { $phone }: { $outcome }
app-sheet-hub-row-phone-reason = Row { $row }, { $phone }: { $outcome } ({ $reason })

## Settings: the neighborhood, its budget and catch-up

app-neighborhood-title = Neighborhood
app-neighborhood-name = Name
app-neighborhood-name-hint = Neighbors see it on the join page and the flyer; renaming also renames the group at Twilio.
app-neighborhood-description = Description
app-neighborhood-description-hint = Shown on the join page and the flyer. At most 500 characters.
app-neighborhood-mode = Who can post
app-neighborhood-mode-open = Everyone can post
app-neighborhood-mode-open-hint = Every member's text goes to the whole group.
app-neighborhood-mode-announce = Announcements only
app-neighborhood-mode-announce-hint = Only captains post to the group. Members' replies go privately to the captains.
app-neighborhood-policy = How neighbors join
app-neighborhood-policy-approval = Captains approve
app-neighborhood-policy-approval-hint = Anyone can ask on the join page or by texting JOIN; a captain approves each request.
app-neighborhood-policy-open = Open
app-neighborhood-policy-open-hint = Anyone who confirms their phone is in at once, without waiting for a captain.
app-neighborhood-policy-invite = Invite only
app-neighborhood-policy-invite-hint = Only phones you text an invite to can ask to join; a captain still approves each request.
app-neighborhood-save = Save
app-budget-title = Costs and budget
app-budget-loading = Loading this month's cost…
app-budget = Monthly budget (US dollars)
app-budget-hint = Captains get a text at 80% and at 100% of it. From 100%, announcements wait until you raise it (the group chat goes on). Leave empty for no budget.
app-budget-save = Save budget
app-catch-up-title = Catch-up for new members
app-catch-up-hint = What someone you approve gets of the conversation so far.
app-catch-up-mode = How new members catch up
app-catch-up-off = Off
app-catch-up-off-hint = New members get the welcome text only.
app-catch-up-text = In one text
app-catch-up-text-hint = The latest messages follow the welcome text, as many as fit one text.
app-catch-up-link = As a link
app-catch-up-link-hint = A link to a page of the latest messages; it opens once, within 7 days.
app-catch-up-messages = How many of the latest messages
app-catch-up-messages-hint = From 1 to 20.
app-catch-up-save = Save catch-up

## Settings: captains and moderators, and handing over

app-team-title = Captains and moderators
app-team-moderators = Moderators
app-team-moderators-can = See join requests, members and messages; mute and unmute by text.
app-team-captains = Captains
app-team-captains-can = Also approve and remove members, send invites and announcements, and change these settings.
app-team-owner-can = Also archives the neighborhood or hands it over to someone else.
app-team-heading = Who helps run it
# After the signed-in captain's own name.
app-team-you = (you)
app-team-owner-hint = The owner changes only by handing over.
app-team-status-paused = paused
app-team-status-left = left
app-team-status-removed = removed
app-team-status-opted-out = opted out
# A role inside a sentence.
app-team-role-member = member
app-team-role-moderator = moderator
app-team-role-captain = captain
app-team-make-captain = Make captain
app-team-make-moderator = Make moderator
app-team-remove-role = Remove role
# A role button's name for a screen reader: $action is one of the three above.
app-team-button-label = { $action }: { $name }
# $role is one of the app-team-role- words.
app-team-step-down = Step down to { $role }? You may lose access to this page.
app-team-now-captain = { $name } is now a captain.
app-team-now-moderator = { $name } is now a moderator.
app-team-no-role = { $name } no longer has a role.
app-team-give = Give someone a role
app-team-search = Find a member by name
app-team-search-hint = Active members without a role. Type part of a name.
app-team-no-match = No active member without a role matches “{ $query }”.
app-team-more = { $count } more: type more of the name.
app-owner-title = Hand over the neighborhood
app-owner-text = The new owner can do everything the owner does now, including handing it over again; the current owner stays on as a captain.
app-owner-nobody = Make someone a captain or moderator first; then you can hand the neighborhood over to them.
app-owner-new = New owner
app-owner-choose = Choose…
# $role is one of the app-team-role- words.
app-owner-candidate = { $name } ({ $role })
app-owner-confirm = Type their name to confirm
app-owner-submit = Hand over
app-owner-choose-error = Choose who becomes the owner.
app-owner-not-yet = Not handed over yet:
app-owner-done = { $name } is now the owner. You are a captain.

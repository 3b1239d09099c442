// Package otree is gotree's API for experimenters: the apps, pages, wait
// pages, models, currency and session configs of a behavioural-economics
// experiment, and [Run], which turns them into a server.
//
// gotree follows oTree's model, so an oTree user finds the same ideas under
// Go names. An experiment is a main package that lists session configs and
// calls Run:
//
//	func main() {
//		otree.Run(&otree.Project{
//			SessionConfigs: []otree.SessionConfig{{
//				Name:                "public_goods",
//				Apps:                []otree.Application{publicgoods.App},
//				NumDemoParticipants: 3,
//			}},
//		})
//	}
//
// # Apps
//
// An app is an [App] value bound by its type parameters to the app's own
// Subsession, Group and Player structs. Each struct embeds gotree's base type
// ([BaseSubsession], [BaseGroup], [BasePlayer]) and adds the app's fields:
//
//	type Player struct {
//		otree.BasePlayer[Subsession, Group, Player]
//		Contribution otree.Currency `label:"How much will you contribute?" max:"100"`
//	}
//
// Every hook receives the app's own types, so p.Group() is a *Group and
// g.Players() a []*Player, with no type assertions.
//
// # Fields
//
// A field of a Player, Group or Subsession is stored in the app's table for
// that model. Supported types are int, int8 to int64, float32, float64,
// bool, string and [Currency], and pointers to them. Struct tags describe how
// a form shows and checks a field; start-up refuses a key one or two letters
// away from one of these (mn:"0"):
//
//	label:"..."        the question shown next to the input
//	min:"0" max:"100"  bounds of a numeric field; numeric fields have min 0
//	                   unless min is given, as in oTree ("none" removes it)
//	choices:"a,b,c"    allowed values; "value:label" pairs give labels
//	blank:"true"       the field may be left empty
//	widget:"radio"     radio, radiohorizontal, select, checkbox or textarea
//	initial:"5"        the value a new row starts with
//	maxlength:"100"    the longest string accepted (10000 by default)
//	help:"..."         text shown under the input
//
// Bounds and choices that depend on the game are methods on the model named
// after the field: ContributionMax() Currency, ContributionMin() Currency,
// ContributionChoices() []Currency (or []Choice[Currency]),
// ContributionError(v Currency) string for a custom check, and
// ContributionLabel() string for a label too long, or too variable, for a
// tag.
//
// Participants type numbers as plain decimals with a point or a comma (25,
// 2.5, 2,5); a whole-number field takes 25.0 as 25. Exponents, hex,
// infinities and NaN are refused with a field error, as is a number no
// field can hold. Numbers beyond ±1,000,000,000 need an explicit bound on
// that side.
//
// A field that a page's form edits is unset until the participant submits it
// (or a timeout fills it): it reads as its zero value, [BasePlayer.IsSet]
// reports false and its column holds NULL, so a field never answered is
// told apart from an answer of zero. A hook that stores the zero value in
// such a field before it is answered leaves it unset, since Go cannot see
// that assignment. Other fields start at their zero value, or their
// initial tag, when the row is created. A pointer field is nil (NULL) until
// your code sets it, for computed values whose absence must show. Each
// round has its own rows, so a field read in a round where nothing set it
// is unset, never the value of an earlier round.
//
// # Pages
//
// A page is a Go type that embeds [Page] or [WaitPage] and has any of the
// optional methods listed in their docs: IsDisplayed, VarsForTemplate,
// BeforeNextPage, FormFields, ErrorMessage, Timeout, AppAfterThisPage, and on
// wait pages AfterAllPlayersArrive. Start-up checks every page and stops with
// an error naming the app, page and field of a mistake.
//
// # Templates
//
// A page's template is the file named after its type (Contribute.html) in
// the app's Templates file system, written for [html/template], so
// everything is escaped. It defines the blocks "title" and "content" and
// sees a [PageData] as dot: {{.Player.Contribution}}, {{.Group.Total}},
// {{.Vars.Name}} for VarsForTemplate's values, {{.C.Endowment}} for the
// app's Constants, {{.FormFields}} or {{.FormField "Contribution"}} for the
// inputs and {{.NextButton}}. A page without a template file gets a
// generated form. Files named _*.html are partials every page can include.
// Start-up checks the fields templates read from the Player, Group,
// Subsession, Constants and the page, through with, range and template,
// and the names given to FormField, FieldError and Display; what only
// run time knows, such as the keys of Vars, fails when the page is shown.
//
// # Rounds, groups and randomness
//
// Every round has its own Subsession, Group and Player rows; InRound and its
// relatives reach earlier rounds. Players are grouped in order (P1–P3,
// P4–P6, …) unless the Subsession's CreatingSession regroups them with
// SetGroupMatrix, GroupRandomly or GroupLikeRound. A group's InRound follows
// its members and fails if they were not one group in that round. Roles are
// given by position, from the App's Roles. Rand on a model gives a random
// source seeded from the session's seed and the hook's place, so a session
// created with the same [SessionOptions.Seed] draws the same numbers.
//
// # Wait pages and timeouts
//
// A participant's page index moves only on the server, in one transaction
// with the submission. Arriving at a wait page as the last member of the
// group runs AfterAllPlayersArrive once and moves every waiting member on;
// their pages, which hold a WebSocket, are told to reload. A page with a
// Timeout stores its deadline when the participant arrives on it. The page
// shows a countdown from the server's deadline, corrected for the browser's
// clock, and when it reaches 0:00, a second before the deadline, submits
// what was typed as a timeout. At the deadline the server submits the page
// itself if it is still open (fields then get their zero values), even if
// no browser is open, also after a restart: a process that runs the timeout
// worker submits, when it starts, the stored deadlines already due, and
// every two seconds those overdue by three seconds whose task was lost. A
// timed-out submission skips validation: a field whose typed value is
// invalid gets its zero value.
//
// # Bots
//
// An App's Bot plays one round for one participant: it submits pages with
// values, asserts results and may submit values that must be rejected. The
// test command, and otreetest.Play inside go test, play a session config
// with its bots over real HTTP and WebSockets and name the case,
// participant, round and page of any failure.
//
// # Running
//
// [Run] reads the command line: devserver serves everything in one
// process; prodserver, develop and the worker commands split the web
// server, the channels workers and the timeout worker into processes that
// share a Redis (REDIS_URL) and a database (DATABASE_URL, Postgres; SQLite
// otherwise). [NewServer] gives an [http.Handler] for embedding gotree in
// another program.
//
// # HTTP, for tools and scripts
//
// gotree speaks oTree's participant protocol. A participant starts at
// /InitializeParticipant/<code> (or the session-wide /join/<code>, with an
// optional participant_label) and is redirected to
// /p/<code>/<app>/<Page>/<index>, the index counting pages across the
// session from 1. Any other page URL redirects to the current one. A page's
// form posts to its own URL, form-encoded: inputs are named after the
// column (contribution for Contribution), booleans are True or False. An
// accepted post answers 302 to the next page; a rejected one answers 200
// with the page, its errors and the submitted values, and the header
// X-Otree-Error-Fields lists the fields in error. Wait pages open a
// WebSocket at /wait_page?participant_code=<code>&page_index=<index>,
// which sends {"status": "ready"} when the group is released (at once if
// it already was); every page also opens /auto_advance, which sends
// {"auto_advanced": true} when the server moves the participant on.
//
// The REST API: POST /api/sessions with session_config_name,
// num_participants and optionally label and modified_session_config_fields
// (which may only change params the config declares, plus
// participation_fee and real_world_currency_per_point) creates a session
// and answers its code, session_wide_url and admin_url;
// GET /api/sessions/<code> (or POST /api/get_session/<code>) lists its
// participants with their codes and payoffs; GET /api/session_configs
// lists the configs. With OTREE_AUTH_LEVEL set to DEMO or STUDY, requests
// need the header otree-rest-key equal to OTREE_REST_KEY. The demo page at
// / creates a demo session of any config in one click and shows its links
// at /SessionStartLinks/<code>.
//
// # Data
//
// Each app's rows are in the tables <app>_subsession, <app>_group and
// <app>_player, with a column per field (snake_case) beside gotree's own
// (id_in_group, round_number, payoff, …). Participants and sessions are in
// otree_participant and otree_session, and otree_page_time logs each
// completed page with its time and whether it timed out.
//
// # Not yet here
//
// oTree's admin pages (session monitor, data export, payments), rooms, live
// pages, chat, group-by-arrival-time, custom exports and the REST calls
// beyond those above (session_vars, participant_vars) are not part of
// gotree yet.
package otree

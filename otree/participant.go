package otree

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// A Participant is one person in a session, across all its apps and rounds.
// Hooks reach it through [BasePlayer.Participant].
//
// Label, Payoff and Vars may be changed in hooks and are saved with the
// request. The other fields are kept by gotree; changing them has no effect.
type Participant struct {
	ID          int64  `gorm:"primaryKey"`
	SessionID   int64  `gorm:"not null;index"`
	Code        string `gorm:"size:16;not null;uniqueIndex"`
	IDInSession int    `gorm:"not null"`
	Label       string `gorm:"size:100;index"`

	// Payoff is the sum of the participant's player payoffs over all apps
	// and rounds, unless a hook sets it directly.
	Payoff Currency `gorm:"not null;default:0"`

	// Vars hold any values a hook wants to keep for the participant, such as
	// data carried from one app to the next. They are stored as JSON: within
	// one request they hold the Go values a hook put there, but a later
	// request reads JSON's types back (float64, string, bool, []any,
	// map[string]any), so read them with [Get], which converts.
	Vars map[string]any `gorm:"serializer:json"`

	Visited     bool
	TimeStarted *time.Time
	IsBot       bool

	// Progress, kept by gotree.
	PageIndex    int // the page the participant is on, from 1; 0 before the start
	MaxPageIndex int
	CurrentApp   string `gorm:"size:64"`
	CurrentPage  string `gorm:"size:64"`
	RoundNumber  int
	OnWaitPage   bool
	LastPageAt   *time.Time
	ExpiryPage   int        // the page whose deadline ExpiryAt is
	ExpiryAt     *time.Time `gorm:"index"`

	st       *participantState
	varsText string // Vars as read from the database
}

// TableName names the participants' table.
func (*Participant) TableName() string { return "otree_participant" }

// participantState tracks what a request loaded, to save only what changed.
type participantState struct {
	tx           *txn
	payoff       Currency // as loaded
	label        string
	vars         string // JSON of Vars as loaded
	varsText     string // the column's text as loaded, which saves are guarded by
	progress     bool   // the engine changed progress fields
	progressCols map[string]bool
}

// Session returns the participant's session.
func (p *Participant) Session() *Session {
	if p.st == nil || p.st.tx == nil {
		panic("otree: a participant was used outside the hook that loaded it")
	}
	return p.st.tx.sessionByID(p.SessionID)
}

// PayoffInRealWorldCurrency returns the payoff converted at the session's
// real-world currency per point.
func (p *Participant) PayoffInRealWorldCurrency() Money {
	return p.Payoff.ToMoney(p.Session().RealWorldCurrencyPerPoint())
}

// PayoffPlusParticipationFee returns the payoff in real-world currency plus
// the session's participation fee: what the participant is paid.
func (p *Participant) PayoffPlusParticipationFee() Money {
	return p.PayoffInRealWorldCurrency().Add(p.Session().ParticipationFee())
}

// Finished reports whether the participant has gone past the last page.
// A participant shown the last page, which usually has no Next button, has
// not: PageIndex == MaxPageIndex tells that the last page was reached.
func (p *Participant) Finished() bool {
	return p.MaxPageIndex > 0 && p.PageIndex > p.MaxPageIndex
}

// A Session is one run of a session config with its participants.
// Hooks reach it through [BasePlayer.Session].
//
// Label, Comment and Vars may be changed in hooks and are saved with the
// request.
type Session struct {
	ID              int64  `gorm:"primaryKey"`
	Code            string `gorm:"size:16;not null;uniqueIndex"`
	ConfigName      string `gorm:"size:100;not null"`
	Label           string `gorm:"size:300"`
	Comment         string
	IsDemo          bool
	NumParticipants int

	// Vars hold any values a hook wants to keep for the session. Like
	// Participant.Vars they are stored as JSON: read them with [Get].
	Vars map[string]any `gorm:"serializer:json"`

	// Seed seeds every random draw of the session's hooks.
	Seed int64

	// Params are the session config's parameters with the values this
	// session was created with, including participation_fee and
	// real_world_currency_per_point.
	Params map[string]any `gorm:"serializer:json"`

	AnonCode  string `gorm:"size:32;uniqueIndex"`
	RoomName  string `gorm:"size:100"`
	Archived  bool
	CreatedAt time.Time

	st       *sessionState
	varsText string // Vars as read from the database
}

// TableName names the sessions' table.
func (*Session) TableName() string { return "otree_session" }

type sessionState struct {
	tx       *txn
	label    string
	comment  string
	vars     string // JSON of Vars as loaded
	varsText string // the column's text as loaded
}

// Param returns the session's value for a config parameter, or nil.
func (s *Session) Param(name string) any { return s.Params[name] }

// ParticipationFee returns the fee every participant is paid.
func (s *Session) ParticipationFee() Money {
	f, _ := Get[float64](s.Params, "participation_fee")
	return RealMoney(f)
}

// RealWorldCurrencyPerPoint returns the session's exchange rate from points
// to real-world money.
func (s *Session) RealWorldCurrencyPerPoint() float64 {
	if r, ok := Get[float64](s.Params, "real_world_currency_per_point"); ok {
		return r
	}
	return 1
}

// Participants returns the session's participants ordered by IDInSession.
func (s *Session) Participants() []*Participant {
	if s.st == nil || s.st.tx == nil {
		panic("otree: a session was used outside the hook that loaded it")
	}
	return s.st.tx.sessionParticipants(s.ID)
}

// Get returns vars[key] converted to T. JSON stores every number as a
// float64, so Get[int] converts whole numbers back. It reports false if the
// key is missing or does not convert.
func Get[T any](vars map[string]any, key string) (T, bool) {
	var out T
	x, ok := vars[key]
	if !ok {
		return out, false
	}
	if v, ok := x.(T); ok {
		return v, true
	}
	// Round-trip through JSON so that float64 becomes int, []any becomes
	// []int, and so on.
	b, err := json.Marshal(x)
	if err != nil {
		return out, false
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, false
	}
	return out, true
}

// Param returns a session config parameter as T, or fallback when the
// session has no such parameter or it does not convert.
func Param[T any](s *Session, name string, fallback T) T {
	if v, ok := Get[T](s.Params, name); ok {
		return v
	}
	return fallback
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("otree: vars cannot be stored as JSON: %v", err))
	}
	return string(b)
}

// participantColumns is the select list scanParticipant reads.
const participantColumns = "id, session_id, code, id_in_session, label, payoff, vars, visited, " +
	"time_started, is_bot, page_index, max_page_index, current_app, current_page, round_number, " +
	"on_wait_page, last_page_at, expiry_page, expiry_at"

// scanParticipant reads a row of participantColumns.
func scanParticipant(rows interface{ Scan(...any) error }) (*Participant, error) {
	var p Participant
	var label, vars, app, page sql.NullString
	var visited, isBot, onWait sql.NullBool
	var started, last, expiry sql.NullTime
	var maxIndex, round, expiryPage sql.NullInt64
	err := rows.Scan(&p.ID, &p.SessionID, &p.Code, &p.IDInSession, &label, &p.Payoff, &vars,
		&visited, &started, &isBot, &p.PageIndex, &maxIndex, &app, &page, &round,
		&onWait, &last, &expiryPage, &expiry)
	if err != nil {
		return nil, fmt.Errorf("read participant: %w", err)
	}
	p.Label, p.CurrentApp, p.CurrentPage = label.String, app.String, page.String
	p.Visited, p.IsBot, p.OnWaitPage = visited.Bool, isBot.Bool, onWait.Bool
	p.MaxPageIndex, p.RoundNumber, p.ExpiryPage = int(maxIndex.Int64), int(round.Int64),
		int(expiryPage.Int64)
	p.TimeStarted, p.LastPageAt, p.ExpiryAt = timePtr(started), timePtr(last), timePtr(expiry)
	p.varsText = vars.String
	if p.Vars, err = jsonMap(vars.String); err != nil {
		return nil, fmt.Errorf("read participant %s vars: %w", p.Code, err)
	}
	return &p, nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// sessionColumns is the select list scanSession reads.
const sessionColumns = "id, code, config_name, label, comment, is_demo, num_participants, vars, " +
	"seed, params, anon_code, room_name, archived, created_at"

// scanSession reads a row of sessionColumns.
func scanSession(rows interface{ Scan(...any) error }) (*Session, error) {
	var s Session
	var label, comment, vars, params, anon, room sql.NullString
	var isDemo, archived sql.NullBool
	var n, seed sql.NullInt64
	var created sql.NullTime
	err := rows.Scan(&s.ID, &s.Code, &s.ConfigName, &label, &comment, &isDemo, &n, &vars, &seed,
		&params, &anon, &room, &archived, &created)
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	s.Label, s.Comment, s.AnonCode, s.RoomName = label.String, comment.String, anon.String, room.String
	s.IsDemo, s.Archived = isDemo.Bool, archived.Bool
	s.NumParticipants, s.Seed, s.CreatedAt = int(n.Int64), seed.Int64, created.Time
	s.varsText = vars.String
	if s.Vars, err = jsonMap(vars.String); err != nil {
		return nil, fmt.Errorf("read session %s vars: %w", s.Code, err)
	}
	if s.Params, err = jsonMap(params.String); err != nil {
		return nil, fmt.Errorf("read session %s params: %w", s.Code, err)
	}
	return &s, nil
}

// jsonMap decodes a JSON object, or returns an empty map for NULL.
func jsonMap(text string) (map[string]any, error) {
	m := map[string]any{}
	if text == "" || text == "null" {
		return m, nil
	}
	return m, json.Unmarshal([]byte(text), &m)
}

package otree

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
	"time"
)

// The participant flow. A participant's page index moves only here, inside
// a writing transaction, and moving onto a page does at once what arriving
// there means: pages that are not displayed are skipped, a wait page
// releases its group if this participant was the last to arrive, and a
// timed page starts its clock. So a participant whose browser is closed
// still moves through wait pages and timed pages.

// start moves a participant who has not begun onto the first page.
func (t *txn) start(k *sessionKind, p *Participant, label string) {
	now := time.Now()
	p.Visited, p.TimeStarted = true, &now
	if label != "" && p.Label == "" {
		p.Label = label
	}
	p.MaxPageIndex = len(k.steps)
	p.setProgress("visited", "time_started", "max_page_index")
	t.arrive(k, p, 1)
}

// arrive moves p onto page index i and processes arrival there.
func (t *txn) arrive(k *sessionKind, p *Participant, i int) {
	for {
		s, ok := k.stepAt(i)
		if !ok {
			t.finish(k, p)
			return
		}
		pl := t.player(s.app, p.ID, s.round)
		if !t.displayed(s, pl) {
			if s.page.isWait() {
				t.passWait(k, p, i, s, pl)
			}
			i++
			continue
		}
		t.moveTo(p, i, s)
		if !s.page.isWait() {
			t.startTimer(p, i, s, pl)
			return
		}
		if !t.waitArrival(k, p, i, s, pl) {
			return
		}
		p.OnWaitPage = false
		t.recordPage(p, i, s, false)
		i = t.nextIndex(k, p, i, s, pl)
	}
}

// moveTo sets p's progress to page i.
func (t *txn) moveTo(p *Participant, i int, s step) {
	p.PageIndex, p.CurrentApp, p.CurrentPage = i, s.app.name, s.page.name
	p.RoundNumber, p.OnWaitPage = s.round, s.page.isWait()
	p.setProgress("page_index", "current_app", "current_page", "round_number", "on_wait_page")
	if p.ExpiryAt != nil && p.ExpiryPage != i {
		p.ExpiryAt, p.ExpiryPage = nil, 0
		p.setProgress("expiry_at", "expiry_page")
	}
}

func (t *txn) finish(k *sessionKind, p *Participant) {
	p.PageIndex, p.OnWaitPage = len(k.steps)+1, false
	p.CurrentPage = ""
	p.setProgress("page_index", "on_wait_page", "current_page")
	if p.ExpiryAt != nil {
		p.ExpiryAt, p.ExpiryPage = nil, 0
		p.setProgress("expiry_at", "expiry_page")
	}
}

func (t *txn) displayed(s step, pl any) bool {
	if s.page.isDisplayed == nil {
		return true
	}
	var shown bool
	t.call(hookName(s, "IsDisplayed"), func() { shown = s.page.isDisplayed(pl) })
	return shown
}

// hookName names a page hook for errors and random seeds. It is formatted
// only when needed, as hooks run on every request.
func hookName(s step, hook string) hookSite { return hookSite{step: s, hook: hook} }

// A hookSite says which experimenter hook runs: a page's hook at a step, or
// another hook named in full.
type hookSite struct {
	step step
	hook string
	name string // set for hooks that are not a page's
}

func (h hookSite) String() string {
	switch {
	case h.name != "":
		return h.name
	case h.step.page == nil:
		return ""
	}
	return fmt.Sprintf("%s/%s.%s (round %d)", h.step.app.name, h.step.page.name, h.hook, h.step.round)
}

// named returns the hookSite of a hook that is not a page's.
func named(name string) hookSite { return hookSite{name: name} }

// nextIndex returns the page after i, following AppAfterThisPage. A jump
// passes over the wait pages between: p counts as arrived at them, as if
// it had skipped them, so that groups waiting there are not stranded.
func (t *txn) nextIndex(k *sessionKind, p *Participant, i int, s step, pl any) int {
	if s.page.appAfterThisPage == nil {
		return i + 1
	}
	upcoming := k.appsAfter(s.app)
	var name string
	t.call(hookName(s, "AppAfterThisPage"), func() {
		name = s.page.appAfterThisPage(pl, slices.Clone(upcoming))
		if name != "" && !slices.Contains(upcoming, name) {
			panic(fmt.Sprintf("returned %q, which is not one of the upcoming apps %v", name, upcoming))
		}
	})
	if name == "" {
		return i + 1
	}
	next := i + 1
	for _, a := range k.apps {
		if a.name == name {
			next = k.firstIndexOf(a)
		}
	}
	for w := i + 1; w < next; w++ {
		if ws, _ := k.stepAt(w); ws.page.isWait() {
			t.passWait(k, p, w, ws, t.player(ws.app, p.ID, ws.round))
		}
	}
	return next
}

// startTimer records the deadline of a timed page and schedules it.
func (t *txn) startTimer(p *Participant, i int, s step, pl any) {
	if s.page.timeout == nil {
		return
	}
	var d time.Duration
	t.call(hookName(s, "Timeout"), func() { d = s.page.timeout(pl) })
	if d == 0 {
		return
	}
	at := time.Now().Add(max(d, 0))
	p.ExpiryPage, p.ExpiryAt = i, &at
	p.setProgress("expiry_page", "expiry_at")
	if p.IsBot {
		// Bots decide when a page times out (Bot.SubmitTimeout): a deadline
		// firing while a bot is busy elsewhere would make test runs flaky.
		return
	}
	id := p.ID
	t.afterCommit(func(ctx context.Context) { t.e.scheduleTimeout(ctx, id, i, at) })
}

// waitKey returns the group a wait page waits for: the player's group, or
// 0 for the whole round.
func waitKey(s step, pl any) int64 {
	if s.page.waitForAll {
		return 0
	}
	return pl.(playerModel).pcore().groupID
}

// waitGroupName names the channel-layer group of a wait page's sockets.
func waitGroupName(sessionID int64, index int, key int64) string {
	return fmt.Sprintf("wait-%d-%d-%d", sessionID, index, key)
}

// waitArrival handles p's arrival on a displayed wait page. It reports
// whether p may go on: the wait was already over, or p completed it.
func (t *txn) waitArrival(k *sessionKind, p *Participant, i int, s step, pl any) bool {
	key := waitKey(s, pl)
	if t.waitDone(p.SessionID, i, key) {
		return true
	}
	return t.tryRelease(k, p, i, s, pl, key)
}

// passWait counts a participant who skips a wait page as arrived; if the
// others have arrived and someone is waiting, it releases them.
func (t *txn) passWait(k *sessionKind, p *Participant, i int, s step, pl any) {
	key := waitKey(s, pl)
	if t.waitDone(p.SessionID, i, key) {
		return
	}
	t.tryRelease(k, p, i, s, pl, key)
}

// tryRelease completes a wait page if every member has arrived and someone
// waits on it: it runs AfterAllPlayersArrive once, records the completion
// and moves the waiting members on. It holds a lock per (wait page, group)
// so that concurrent arrivals, even on other processes, see each other.
func (t *txn) tryRelease(k *sessionKind, p *Participant, i int, s step, pl any, key int64) bool {
	if t.e.store.postgres {
		// Another process may have completed the wait while we took the
		// lock, and members may have changed rows this request read before.
		t.lockWait(p.SessionID, i, key)
		if t.waitDone(p.SessionID, i, key) {
			return true
		}
		t.reloadMembers(s, pl)
	}
	waiting, ok := t.arrivals(s, pl, p, i)
	if !ok || len(waiting) == 0 {
		return false
	}
	t.runAfterAll(s, pl)
	must(t.q.exec("INSERT INTO otree_wait_done (session_id, page_index, group_id, created_at) "+
		"VALUES (?, ?, ?, ?)", p.SessionID, i, key, time.Now()))
	t.markWaitDone(p.SessionID, i, key)
	for _, id := range waiting {
		if id == p.ID {
			continue
		}
		q := t.lockParticipant(id)
		if q.PageIndex != i || !q.OnWaitPage {
			continue
		}
		q.OnWaitPage = false
		t.recordPage(q, i, s, false)
		t.arrive(k, q, t.nextIndex(k, q, i, s, t.player(s.app, id, s.round)))
	}
	name := waitGroupName(p.SessionID, i, key)
	t.afterCommit(func(ctx context.Context) { t.e.push(ctx, name, readyMessage) })
	return p.PageIndex == i
}

// reloadMembers refreshes the rows of a wait's members, their group and
// subsession that this request has read but not changed.
func (t *txn) reloadMembers(s step, pl any) {
	sid := t.sessionOf()
	t.reload(s.app.subsession, "session_id = ? AND round_number = ?", sid, s.round)
	if s.page.waitForAll {
		t.reload(s.app.group, "session_id = ? AND round_number = ?", sid, s.round)
		t.reload(s.app.player, "session_id = ? AND round_number = ?", sid, s.round)
		return
	}
	gid := pl.(playerModel).pcore().groupID
	t.reload(s.app.group, "id = ?", gid)
	t.reload(s.app.player, "group_id = ?", gid)
}

func (t *txn) waitMembers(s step, pl any) []any {
	if s.page.waitForAll {
		return t.subsessionPlayers(s.app, s.round)
	}
	return t.groupPlayers(s.app, pl.(playerModel).pcore().groupID)
}

// arrivals reports whether every member of the wait has reached page i,
// and which members are waiting on it. Progress is read fresh from the
// database, except for participants this request has moved; self, who is
// arriving at page i or passing it, counts as arrived.
func (t *txn) arrivals(s step, pl any, self *Participant, i int) (waiting []int64, all bool) {
	q := "SELECT p.id, p.page_index, p.on_wait_page FROM otree_participant p JOIN " +
		quote(s.app.player.name) + " pl ON pl.participant_id = p.id WHERE "
	var args []any
	if s.page.waitForAll {
		q += "pl.session_id = ? AND pl.round_number = ?"
		args = []any{self.SessionID, s.round}
	} else {
		q += "pl.group_id = ?"
		args = []any{pl.(playerModel).pcore().groupID}
	}
	rs, err := t.q.query(q, args...)
	must(err)
	defer rs.Close()
	all = true
	for rs.Next() {
		var id int64
		var index int
		var onWait sql.NullBool
		must(rs.Scan(&id, &index, &onWait))
		if p := t.participants[id]; p != nil && (p == self || len(p.st.progressCols) > 0) {
			index, onWait.Bool = p.PageIndex, p.OnWaitPage
		}
		if id == self.ID && index < i {
			index, onWait.Bool = i, false // passing the page, not waiting on it
		}
		if index < i {
			all = false
		}
		if index == i && onWait.Bool {
			waiting = append(waiting, id)
		}
	}
	must(rs.Err())
	return waiting, all
}

// recheckWait releases p's wait page if every member has arrived but no
// arrival released it (a safety net: arrivals normally release at once).
// It reports whether p moved on.
func (t *txn) recheckWait(k *sessionKind, p *Participant, i int) bool {
	s, ok := k.stepAt(i)
	if !ok || !s.page.isWait() || p.PageIndex != i || !p.OnWaitPage {
		return false
	}
	pl := t.player(s.app, p.ID, s.round)
	key := waitKey(s, pl)
	if !t.waitDone(p.SessionID, i, key) && !t.tryRelease(k, p, i, s, pl, key) {
		return false
	}
	p.OnWaitPage = false
	t.recordPage(p, i, s, false)
	t.arrive(k, p, t.nextIndex(k, p, i, s, pl))
	return true
}

func (t *txn) runAfterAll(s step, pl any) {
	switch {
	case s.page.afterGroup != nil:
		g := t.groupByID(s.app, pl.(playerModel).pcore().groupID)
		t.call(hookName(s, "AfterAllPlayersArrive"), func() { s.page.afterGroup(g) })
	case s.page.afterSubsession != nil:
		sub := t.subsession(s.app, s.round)
		t.call(hookName(s, "AfterAllPlayersArrive"), func() { s.page.afterSubsession(sub) })
	}
}

// waitDone reports whether the wait page's completion record exists.
func (t *txn) waitDone(sessionID int64, i int, key int64) bool {
	if t.doneWaits[waitID{sessionID, i, key}] {
		return true
	}
	var n int64
	must(t.q.scalar(&n, "SELECT count(*) FROM otree_wait_done "+
		"WHERE session_id = ? AND page_index = ? AND group_id = ?", sessionID, i, key))
	if n > 0 {
		t.markWaitDone(sessionID, i, key)
	}
	return n > 0
}

type waitID struct {
	session int64
	index   int
	key     int64
}

func (t *txn) markWaitDone(sessionID int64, i int, key int64) {
	if t.doneWaits == nil {
		t.doneWaits = map[waitID]bool{}
	}
	t.doneWaits[waitID{sessionID, i, key}] = true
}

// lockWait takes a transaction-scoped lock on a wait page's group. On
// Postgres it is an advisory lock, which holds across processes; SQLite's
// single writer already serializes every writing transaction.
func (t *txn) lockWait(sessionID int64, i int, key int64) {
	if !t.e.store.postgres {
		return
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "wait|%d|%d|%d", sessionID, i, key)
	must(t.q.exec("SELECT pg_advisory_xact_lock(?)", int64(h.Sum64())))
}

// recordPage logs a completed page in the page-time table.
func (t *txn) recordPage(p *Participant, i int, s step, timedOut bool) {
	now := time.Now()
	p.LastPageAt = &now
	p.setProgress("last_page_at")
	must(t.q.exec("INSERT INTO otree_page_time (session_id, participant_id, page_index, app_name, "+
		"page_name, round_number, completed_at, timeout_happened, is_wait_page) "+
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", p.SessionID, p.ID, i, s.app.name, s.page.name,
		s.round, now, timedOut, s.page.isWait()))
}

// A formError is a rejected submission: messages by field column, a
// page-level message, and the submitted values to show again.
type formError struct {
	fields map[string]string
	page   string
	values url.Values
}

func (e *formError) Error() string { return "otree: the submission has errors" }

// submit applies a form submission to page i, on which p is. It returns a
// *formError (and changes nothing worth keeping: the caller rolls back) if
// the submission is rejected.
func (t *txn) submit(k *sessionKind, p *Participant, i int, form url.Values, timedOut bool) error {
	s, _ := k.stepAt(i)
	pl := t.player(s.app, p.ID, s.round)
	if err := t.applyForm(s, pl, form, timedOut); err != nil {
		return err
	}
	if s.page.beforeNextPage != nil {
		t.call(hookName(s, "BeforeNextPage"), func() { s.page.beforeNextPage(pl, timedOut) })
	}
	t.recordPage(p, i, s, timedOut)
	t.arrive(k, p, t.nextIndex(k, p, i, s, pl))
	return nil
}

// formTarget returns the model a page's form edits and its row state.
func (t *txn) formTarget(s step, pl any) *rowState {
	if s.page.formModel == GroupForm {
		g := t.groupByID(s.app, pl.(playerModel).pcore().groupID)
		return g.(model).core().st
	}
	return pl.(model).core().st
}

// applyForm validates and stores the page's fields. On a timeout, invalid
// or missing values become the type's zero value instead of errors, and a
// page-level error replaces every field with its zero value.
func (t *txn) applyForm(s step, pl any, form url.Values, timedOut bool) error {
	st := t.formTarget(s, pl)
	fe := &formError{fields: map[string]string{}, values: form}
	for _, f := range s.page.fields {
		raw, present := form[f.column]
		var x any
		var msg string
		t.call(hookName(s, f.goName+" checks"), func() {
			x, msg = f.validate(st.self, first(raw), present)
		})
		if msg != "" && timedOut {
			x, msg = f.zero(), ""
		}
		if msg != "" {
			fe.fields[f.column] = msg
			continue
		}
		st.assign(f.pos, x)
	}
	if len(fe.fields) > 0 {
		return fe
	}
	if s.page.errorMessage != nil {
		t.call(hookName(s, "ErrorMessage"), func() { fe.page = s.page.errorMessage(pl) })
	}
	if fe.page == "" {
		return nil
	}
	if !timedOut {
		return fe
	}
	for _, f := range s.page.fields {
		st.assign(f.pos, f.zero())
	}
	return nil
}

func first(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

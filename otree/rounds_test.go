package otree_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

// The counter app: three rounds of three pages, each page counting into a
// player field and, in place, into a map in the participant's vars.

type ctSub struct {
	otree.BaseSubsession[ctSub, ctGroup, ctPlayer]
}

type ctGroup struct {
	otree.BaseGroup[ctSub, ctGroup, ctPlayer]
}

type ctPlayer struct {
	otree.BasePlayer[ctSub, ctGroup, ctPlayer]
	Count int
	Note  *string // set in round 1 only
}

// count adds one to the player's counter and to the round's entry in the
// participant's "pages" map, changed in place.
func count(p *ctPlayer, _ bool) {
	p.Count++
	vars := p.Participant().Vars
	pages, _ := vars["pages"].(map[string]any)
	if pages == nil {
		pages = map[string]any{}
		vars["pages"] = pages
	}
	key := fmt.Sprint(p.RoundNumber())
	n, _ := pages[key].(float64)
	pages[key] = n + 1
}

type ctA struct{ otree.Page }

func (ctA) BeforeNextPage(p *ctPlayer, to bool) {
	count(p, to)
	if p.RoundNumber() == 1 {
		note := "round 1"
		p.Note = &note
	}
}

type ctB struct{ otree.Page }

func (ctB) BeforeNextPage(p *ctPlayer, to bool) { count(p, to) }

type ctC struct{ otree.Page }

func (ctC) BeforeNextPage(p *ctPlayer, to bool) { count(p, to) }

var counterApp = &otree.App[ctSub, ctGroup, ctPlayer]{
	Name: "counter", NumRounds: 3, Pages: []otree.AnyPage{ctA{}, ctB{}, ctC{}},
	Bot: func(b *otree.Bot[ctPlayer]) {
		b.Submit(ctA{})
		b.Submit(ctB{})
		b.Submit(ctC{})
		p := b.Player()
		b.Expect(p.Count, 3)
		var earlier []int
		for _, q := range p.InPreviousRounds() {
			earlier = append(earlier, q.Count)
		}
		b.Expect(len(earlier), p.RoundNumber()-1)
		if p.RoundNumber() == 3 {
			b.Expect(earlier, []int{3, 3})
			b.Expect(p.Participant().Vars["pages"], map[string]any{"1": 3.0, "2": 3.0, "3": 3.0})
		}
		// Only round 1 sets Note: later rounds read it unset, never the
		// value of an earlier round.
		if first := p.InRound(1); first.Note == nil || *first.Note != "round 1" {
			b.Errorf("round 1's Note is %v, want \"round 1\"", first.Note)
		}
		if p.RoundNumber() > 1 && (p.IsSet(&p.Note) || p.Note != nil) {
			b.Errorf("Note is set in round %d", p.RoundNumber())
		}
	},
}

// The strangers app: four players in pairs for three rounds, each round
// pairing each player with someone new, in an order drawn from the
// session's seed.

type stSub struct {
	otree.BaseSubsession[stSub, stGroup, stPlayer]
}

type stGroup struct {
	otree.BaseGroup[stSub, stGroup, stPlayer]
}

type stPlayer struct {
	otree.BasePlayer[stSub, stGroup, stPlayer]
	FirstPartner int // IDInSubsession of the round-1 partner, seen from round 3
	Draw         int
}

// CreatingSession pairs a seeded order of the four players by the three
// perfect matchings of four, one per round.
func (s *stSub) CreatingSession() {
	order, ok := otree.Get[[]int](s.Session().Vars, "order")
	if !ok {
		order = s.Rand().Perm(4)
		for i := range order {
			order[i]++
		}
		s.Session().Vars["order"] = order
	}
	pairings := [][][2]int{{{0, 1}, {2, 3}}, {{0, 2}, {1, 3}}, {{0, 3}, {1, 2}}}
	var m [][]int
	for _, pair := range pairings[s.RoundNumber()-1] {
		m = append(m, []int{order[pair[0]], order[pair[1]]})
	}
	if err := s.SetGroupMatrix(m); err != nil {
		panic(err)
	}
	for _, p := range s.Players() {
		p.Draw = p.Rand().IntN(1000)
	}
}

type stPage struct{ otree.Page }

func (stPage) BeforeNextPage(p *stPlayer, _ bool) {
	if p.RoundNumber() == 3 {
		p.FirstPartner = p.InRound(1).OthersInGroup()[0].IDInSubsession()
	}
}

var strangersApp = &otree.App[stSub, stGroup, stPlayer]{
	Name: "strangers", PlayersPerGroup: 2, NumRounds: 3, Pages: []otree.AnyPage{stPage{}},
	Bot: func(b *otree.Bot[stPlayer]) { b.Submit(stPage{}) },
}

// groupAcross is a page whose VarsForTemplate reaches a group's round-1
// counterpart after regrouping, which must fail with a clear error.
type stGroupBack struct{ otree.Page }

func (stGroupBack) VarsForTemplate(p *stPlayer) otree.Vars {
	if p.RoundNumber() == 2 {
		p.Group().InRound(1)
	}
	return nil
}

var strangersBackApp = &otree.App[stSub, stGroup, stPlayer]{
	Name: "strangers_back", PlayersPerGroup: 2, NumRounds: 3,
	Pages: []otree.AnyPage{stGroupBack{}},
}

var roundsProject = &otree.Project{SessionConfigs: []otree.SessionConfig{
	{Name: "counter", Apps: []otree.Application{counterApp}, NumDemoParticipants: 2},
	{Name: "strangers", Apps: []otree.Application{strangersApp}, NumDemoParticipants: 4},
	{Name: "strangers_back", Apps: []otree.Application{strangersBackApp}, NumDemoParticipants: 4},
}}

func TestDataKeptAcrossPagesAndRounds(t *testing.T) {
	for _, db := range otreetest.Databases() {
		t.Run(db.Name, func(t *testing.T) {
			s := otreetest.NewServerOn(t, db, roundsProject, &otree.ServerOptions{Logger: quietLogger()})
			s.Play(t, "counter", 2)
		})
	}
}

// pairings reads each round's groups as sorted pairs of IDInSubsession.
func pairings(t *testing.T, s *otreetest.Server, code string) []string {
	t.Helper()
	var rows []struct {
		Round, GroupID, ID int
	}
	openDB(t, s).Raw(`SELECT pl.round_number AS round, pl.group_id, pl.id_in_subsession AS id
		FROM strangers_player pl JOIN otree_session s ON s.id = pl.session_id
		WHERE s.code = ? ORDER BY pl.round_number, pl.group_id, pl.id_in_subsession`, code).Scan(&rows)
	byRound := map[int]map[int][]int{}
	for _, r := range rows {
		if byRound[r.Round] == nil {
			byRound[r.Round] = map[int][]int{}
		}
		byRound[r.Round][r.GroupID] = append(byRound[r.Round][r.GroupID], r.ID)
	}
	var out []string
	for round := 1; round <= 3; round++ {
		var groups []string
		for _, g := range byRound[round] {
			groups = append(groups, fmt.Sprint(g))
		}
		slices.Sort(groups)
		out = append(out, strings.Join(groups, " "))
	}
	return out
}

func TestSeededStrangerMatching(t *testing.T) {
	s := otreetest.NewServer(t, roundsProject, &otree.ServerOptions{Logger: quietLogger()})
	ctx := context.Background()
	create := func(seed int64) string {
		code, err := s.CreateSession(ctx, otree.SessionOptions{Config: "strangers", Seed: &seed})
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	a, b, other := create(42), create(42), create(7)
	pa, pb := pairings(t, s, a), pairings(t, s, b)
	if pa[0] == pa[1] || pa[1] == pa[2] || pa[0] == pa[2] {
		t.Errorf("pairings %v repeat a pairing across rounds", pa)
	}
	if !slices.Equal(pa, pb) {
		t.Errorf("the same seed gave pairings %v and %v", pa, pb)
	}
	draws := func(code string) []int {
		var d []int
		openDB(t, s).Raw(`SELECT pl.draw FROM strangers_player pl JOIN otree_session s
			ON s.id = pl.session_id WHERE s.code = ? ORDER BY pl.id`, code).Scan(&d)
		return d
	}
	if da, db := draws(a), draws(b); !slices.Equal(da, db) {
		t.Errorf("the same seed gave draws %v and %v", da, db)
	}
	if po := pairings(t, s, other); slices.Equal(po, pa) && slices.Equal(draws(other), draws(a)) {
		t.Errorf("seeds 42 and 7 gave the same pairings and draws")
	}
}

// After regrouping, a player's earlier round has the real partner of that
// round, and a group's earlier round fails instead of naming other people.
func TestEarlierRoundsAfterRegrouping(t *testing.T) {
	s := otreetest.NewServer(t, roundsProject, &otree.ServerOptions{Logger: quietLogger()})
	rep := s.Play(t, "strangers", 4)
	code := rep.Sessions[0].Code
	var rows []struct{ ID, FirstPartner int }
	openDB(t, s).Raw(`SELECT pl.id_in_subsession AS id, pl.first_partner FROM strangers_player pl
		JOIN otree_session s ON s.id = pl.session_id WHERE s.code = ? AND pl.round_number = 3`,
		code).Scan(&rows)
	round1 := pairings(t, s, code)[0]
	for _, r := range rows {
		pair := fmt.Sprint([]int{min(r.ID, r.FirstPartner), max(r.ID, r.FirstPartner)})
		if !strings.Contains(round1, pair) {
			t.Errorf("player %d names %d as round-1 partner; round 1 was %s", r.ID, r.FirstPartner, round1)
		}
	}

	_, codes := session(t, s.URL, "strangers_back", 4)
	c := newClient(t, s.URL)
	path, _ := c.follow("/InitializeParticipant/" + codes[0])
	c.post(path, nil)
	_, page := c.follow(path)
	if page.status != 500 || !strings.Contains(page.body, "regrouped") {
		t.Errorf("a group's earlier round after regrouping: status %d, want 500 saying why", page.status)
	}
}

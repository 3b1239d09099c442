package main

import (
	"embed"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
	Total otree.Currency
}

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
	Contribution otree.Currency `label:"How much will you contribute?" max:"100"`
}

type Contribute struct{ otree.Page }

func (Contribute) FormFields() []string { return []string{"Contribution"} }

type ResultsWaitPage struct{ otree.WaitPage }

func (ResultsWaitPage) AfterAllPlayersArrive(g *Group) {
	players := g.Players()
	g.Total = otree.Sum(players, func(p *Player) otree.Currency { return p.Contribution })
	share := g.Total.Mul(1.8).Div(3)
	for _, p := range players {
		p.Payoff = otree.Cu(100).Sub(p.Contribution).Add(share)
	}
}

type Results struct{ otree.Page }

// play is each participant's bot: it contributes 10 and checks the payoff,
// 100 - 10 + 30 * 1.8 / 3.
func play(b *otree.Bot[Player]) {
	b.Submit(Contribute{}, otree.Values{"Contribution": 10})
	b.Expect(b.Player().Payoff, otree.Cu(108))
}

func main() {
	app := &otree.App[Subsession, Group, Player]{
		Name: "public_goods", PlayersPerGroup: 3, Templates: templates, Bot: play,
		Pages: []otree.AnyPage{Contribute{}, ResultsWaitPage{}, Results{}},
	}
	otree.Run(&otree.Project{SessionConfigs: []otree.SessionConfig{{
		Name: "public_goods", Apps: []otree.Application{app}, NumDemoParticipants: 3,
	}}})
}

package otree

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"gorm.io/gorm"
)

// The REST API of oTree, for lab software and load tools: JSON in, JSON out.

// restAllowed checks the otree-rest-key header when auth is on
// (OTREE_AUTH_LEVEL is DEMO or STUDY).
func (e *engine) restAllowed(w http.ResponseWriter, r *http.Request) bool {
	level := strings.ToUpper(e.opts.AuthLevel)
	if level != "DEMO" && level != "STUDY" {
		return true
	}
	key := r.Header.Get("otree-rest-key")
	if e.opts.RestKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(e.opts.RestKey)) == 1 {
		return true
	}
	writeJSON(w, http.StatusForbidden, map[string]string{
		"error": "the otree-rest-key header is missing or does not match OTREE_REST_KEY"})
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (e *engine) apiCreateSession(w http.ResponseWriter, r *http.Request) {
	if !e.restAllowed(w, r) {
		return
	}
	var req struct {
		Config   string         `json:"session_config_name"`
		N        int            `json:"num_participants"`
		Label    string         `json:"label"`
		Room     string         `json:"room_name"`
		Modified map[string]any `json:"modified_session_config_fields"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{
			"error": "the body must be a JSON object with session_config_name and num_participants"})
		return
	}
	if req.N <= 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{
			"error": "num_participants must be a positive number"})
		return
	}
	s, err := e.createSession(r.Context(), SessionOptions{
		Config: req.Config, Participants: req.N, Label: req.Label, Params: req.Modified,
		roomName: req.Room,
	})
	var ce *ConfigError
	if errors.As(err, &ce) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": ce.Msg})
		return
	}
	if err != nil {
		e.log.Error("create session", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	base := baseURL(r)
	writeJSON(w, http.StatusCreated, map[string]any{
		"code":             s.Code,
		"session_wide_url": base + "/join/" + s.AnonCode,
		"admin_url":        base + "/SessionStartLinks/" + s.Code,
	})
}

// apiParticipant is a participant as GET /api/sessions/<code> shows it.
type apiParticipant struct {
	Code        string  `json:"code"`
	IDInSession int     `json:"id_in_session"`
	Label       string  `json:"label"`
	Payoff      float64 `json:"payoff_in_real_world_currency"`
	PayoffPlus  float64 `json:"payoff_plus_participation_fee"`
	Points      float64 `json:"payoff"`
	Finished    bool    `json:"finished"`
	PageIndex   int     `json:"_index_in_pages"`
	MaxIndex    int     `json:"_max_page_index"`
}

func (e *engine) apiGetSession(w http.ResponseWriter, r *http.Request) {
	if !e.restAllowed(w, r) {
		return
	}
	s, parts, err := e.sessionWithParticipants(r.Context(), r.PathValue("code"))
	if errors.Is(err, gorm.ErrRecordNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no session with that code"})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	out := make([]apiParticipant, len(parts))
	for i, p := range parts {
		money := p.Payoff.ToMoney(s.RealWorldCurrencyPerPoint())
		out[i] = apiParticipant{
			Code: p.Code, IDInSession: p.IDInSession, Label: p.Label,
			Payoff: money.Float64(), PayoffPlus: money.Add(s.ParticipationFee()).Float64(),
			Points: p.Payoff.Float64(), Finished: p.Finished(),
			PageIndex: p.PageIndex, MaxIndex: p.MaxPageIndex,
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"code": s.Code, "label": s.Label, "config_name": s.ConfigName,
		"num_participants": s.NumParticipants, "session_wide_url": baseURL(r) + "/join/" + s.AnonCode,
		"config": s.Params, "vars": s.Vars, "participants": out,
	})
}

func (e *engine) apiSessionConfigs(w http.ResponseWriter, r *http.Request) {
	if !e.restAllowed(w, r) {
		return
	}
	var out []map[string]any
	for _, c := range e.project.SessionConfigs {
		k := e.kinds[c.Name]
		var apps []string
		for _, a := range k.apps {
			apps = append(apps, a.name)
		}
		entry := map[string]any{"name": k.Name, "display_name": k.DisplayName,
			"num_demo_participants": k.NumDemoParticipants, "app_sequence": apps, "doc": k.Doc}
		for key, v := range k.params {
			entry[key] = v
		}
		out = append(out, entry)
	}
	writeJSON(w, http.StatusOK, out)
}

package otree

import (
	"fmt"
	"reflect"
	"text/template/parse"
)

// dataTypes are the dynamic types behind PageData's untyped members for
// one app, so that start-up can check {{.Group.Total}} against the app's
// Group rather than against any.
type dataTypes struct {
	player, group, subsession, constants reflect.Type
}

// nameArgs are the PageData methods that take a field's name, and the
// fields each accepts: the page's form fields, or the Player's.
var nameArgs = map[string]func(ps *pageSpec, name string) bool{
	"FormField":  isFormField,
	"FieldError": isFormField,
	"Display": func(ps *pageSpec, name string) bool {
		return ps.app.player.schema.byName[name] != nil
	},
}

func isFormField(ps *pageSpec, name string) bool {
	for _, f := range ps.fields {
		if f.goName == name || f.column == name {
			return true
		}
	}
	return false
}

var pageDataType = reflect.TypeFor[*PageData]()

// checkFields walks the page's templates from the layout, following dot
// through {{with}}, {{range}} and {{template}}, and reports the first
// field or method that the type it is read from lacks, such as
// {{.Group.Totl}}, and the first field name given to FormField,
// FieldError or Display that the page or Player lacks. Where dot's type is
// not known statically (a value of type any, a map from VarsForTemplate,
// a variable), it checks nothing.
func checkFields(ps *pageSpec, types dataTypes) error {
	c := &fieldChecker{page: ps, types: types, seen: map[string]bool{}}
	c.visit("layout", pageDataType)
	return c.err
}

type fieldChecker struct {
	page  *pageSpec
	types dataTypes
	seen  map[string]bool // template name and dot type already walked
	err   error
}

// visit walks the named template with dot of type dot.
func (c *fieldChecker) visit(name string, dot reflect.Type) {
	key := name + "\x00" + dot.String()
	if c.seen[key] || c.err != nil {
		return
	}
	c.seen[key] = true
	t := c.page.tmpl.Lookup(name)
	if t == nil || t.Tree == nil {
		return
	}
	w := walker{c: c, tree: t.Tree, root: dot}
	w.node(t.Tree.Root, dot)
}

// walker walks one template's tree; root is the type of $.
type walker struct {
	c    *fieldChecker
	tree *parse.Tree
	root reflect.Type
}

func (w *walker) node(n parse.Node, dot reflect.Type) {
	if w.c.err != nil || n == nil {
		return
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, m := range n.Nodes {
			w.node(m, dot)
		}
	case *parse.ActionNode:
		w.pipe(n.Pipe, dot)
	case *parse.IfNode:
		w.pipe(n.Pipe, dot)
		w.node(n.List, dot)
		w.node(n.ElseList, dot)
	case *parse.WithNode:
		w.pipe(n.Pipe, dot)
		w.node(n.List, w.pipeType(n.Pipe, dot))
		w.node(n.ElseList, dot)
	case *parse.RangeNode:
		w.pipe(n.Pipe, dot)
		w.node(n.List, elemType(w.pipeType(n.Pipe, dot)))
		w.node(n.ElseList, dot)
	case *parse.TemplateNode:
		if n.Pipe == nil {
			return
		}
		w.pipe(n.Pipe, dot)
		if arg := w.pipeType(n.Pipe, dot); arg != nil {
			w.c.visit(n.Name, arg)
		}
	}
}

// pipe checks the fields read in every command of p.
func (w *walker) pipe(p *parse.PipeNode, dot reflect.Type) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			w.arg(arg, dot)
		}
		w.nameArg(cmd.Args, dot)
	}
}

// nameArg checks the field name in a call such as {{.FormField "X"}}.
func (w *walker) nameArg(args []parse.Node, dot reflect.Type) {
	if len(args) < 2 || w.c.err != nil {
		return
	}
	f, ok := args[0].(*parse.FieldNode)
	s, isString := args[1].(*parse.StringNode)
	if !ok || !isString {
		return
	}
	method := f.Ident[len(f.Ident)-1]
	valid := nameArgs[method]
	if valid == nil || w.fields(f, dot, f.Ident[:len(f.Ident)-1]) != pageDataType {
		return
	}
	if !valid(w.c.page, s.Text) {
		owner := "the page's form"
		if method == "Display" {
			owner = "Player"
		}
		loc, context := w.tree.ErrorContext(f)
		w.c.err = fmt.Errorf("%s: {{%s %s}}: %s has no field %s", loc, context, s.Quoted, owner, s.Text)
	}
}

func (w *walker) arg(n parse.Node, dot reflect.Type) reflect.Type {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		return w.fields(n, dot, n.Ident)
	case *parse.VariableNode:
		if n.Ident[0] == "$" {
			return w.fields(n, w.root, n.Ident[1:])
		}
	case *parse.PipeNode:
		w.pipe(n, dot)
	case *parse.ChainNode:
		if p, ok := n.Node.(*parse.PipeNode); ok {
			w.pipe(p, dot)
		}
	}
	return nil
}

// pipeType is the static type of p's value when p is a single field
// chain, dot or $; nil when it cannot be known.
func (w *walker) pipeType(p *parse.PipeNode, dot reflect.Type) reflect.Type {
	if len(p.Cmds) != 1 || len(p.Cmds[0].Args) == 0 {
		return nil
	}
	if len(p.Cmds[0].Args) > 1 {
		// A method call with arguments: its first argument names it.
		if _, ok := p.Cmds[0].Args[0].(*parse.FieldNode); !ok {
			return nil
		}
	}
	return w.arg(p.Cmds[0].Args[0], dot)
}

// fields follows a chain of field and method names from t and records an
// error for the first one t lacks. It returns the chain's type, or nil.
func (w *walker) fields(n parse.Node, t reflect.Type, idents []string) reflect.Type {
	for _, id := range idents {
		if t == nil || w.c.err != nil {
			return nil
		}
		next, ok := w.c.member(t, id)
		if !ok {
			loc, context := w.tree.ErrorContext(n)
			w.c.err = fmt.Errorf("%s: {{%s}}: %s has no field or method %s",
				loc, context, typeLabel(t), id)
			return nil
		}
		t = next
	}
	return t
}

// member returns the type of t's field or method id. Unknown types (any)
// and maps accept every name.
func (c *fieldChecker) member(t reflect.Type, id string) (reflect.Type, bool) {
	if t == pageDataType {
		switch id {
		case "Player":
			return c.types.player, true
		case "Group":
			return c.types.group, true
		case "Subsession":
			return c.types.subsession, true
		case "C":
			return c.types.constants, true
		}
	}
	if t.Kind() == reflect.Interface {
		return nil, true
	}
	for _, mt := range []reflect.Type{t, reflect.PointerTo(t)} {
		if m, ok := mt.MethodByName(id); ok {
			if m.Type.NumOut() == 0 {
				return nil, true // text/template reports this itself
			}
			return m.Type.Out(0), true
		}
	}
	s := t
	for s.Kind() == reflect.Pointer {
		s = s.Elem()
	}
	switch s.Kind() {
	case reflect.Map:
		return s.Elem(), true
	case reflect.Interface:
		return nil, true
	case reflect.Struct:
		if f, ok := s.FieldByName(id); ok && f.IsExported() {
			return f.Type, true
		}
	}
	return nil, false
}

// elemType is the type range gives dot when it ranges over t.
func elemType(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Chan:
		return t.Elem()
	}
	return nil
}

// typeLabel names t for a template author: the Player of app x rather
// than *x.Player.
func typeLabel(t reflect.Type) string {
	if t == pageDataType {
		return "the page (PageData)"
	}
	return t.String()
}

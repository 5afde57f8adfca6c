package sheets

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	gsheets "google.golang.org/api/sheets/v4"

	"github.com/uptake-dev/uptake/connectors"
)

// publication is a planned refresh of the spreadsheet's tabs.
type publication struct {
	d        *Destination
	conn     *sql.Conn
	run      connectors.Run
	svc      *gsheets.Service
	contents []*content // the tables' tabs in publishing order, then _meta
	// wrote says a staging tab may exist (a batch adding one was sent);
	// committed that every tab is in place.
	wrote, committed bool
}

// Prepare writes every tab of the run, and _meta, into hidden staging tabs
// (after removing those an interrupted run left): readers still see the
// previous run's tabs. It sends as few batchUpdates as fit under the
// request budget: the first adds the staging tabs and carries the first
// rows, and each carries the rows of as many tabs as fit. With refresh: tab_by_tab it writes nothing (Commit
// does it all).
func (p *publication) Prepare(ctx context.Context) error {
	ctx = withLogger(ctx, p.run)
	p.warn()
	if p.d.spec.Refresh == TabByTab {
		return nil
	}
	// A fresh read: the spreadsheet may have changed since Plan.
	tabs, err := p.d.tabs(ctx, p.svc)
	if err != nil {
		return err
	}
	if err := checkCells(tabs, p.contents, p.d.spec.Refresh); err != nil {
		return err
	}
	head := dropLeftovers(tabs)
	used := idsOf(tabs)
	for _, c := range p.contents {
		c.stageID = used.fresh()
		head = append(head, addStaging(c))
	}
	p.wrote = true
	sent, err := p.d.stage(ctx, p.svc, p.conn, head, p.contents)
	if err != nil {
		return p.d.explain(err)
	}
	for _, c := range p.contents {
		logger(p.run).Info("tab staged", "step", "publish", "destination", "sheets", "tab", c.tab, "rows", c.rows-1)
	}
	logger(p.run).Info("tabs staged", "step", "publish", "destination", "sheets", "tabs", len(p.contents), "requests", sent)
	return nil
}

// warn reports the tabs max_rows capped and the cells cut to fit.
func (p *publication) warn() {
	for _, c := range p.contents {
		if c.meta == nil && c.rows-1 < c.total {
			logger(p.run).Warn("tab capped by max_rows", "tab", c.tab, "rows", c.rows-1, "of", c.total)
		}
		if c.cut == 0 {
			continue
		}
		logger(p.run).Warn("long text cut to fit a Google Sheets cell (truncate_long_text)", "tab", c.tab, "cells", c.cut, "max_chars", maxCellChars)
		if p.run.Warn != nil {
			p.run.Warn(fmt.Sprintf("sheets: %d cells of tab %s cut to the %d characters of a Google Sheets cell (truncate_long_text)", c.cut, c.tab, maxCellChars))
		}
	}
}

// Commit puts every staged tab, and _meta, in place in one batchUpdate,
// which Google applies all or nothing: for each tab, resize it (or add
// it), copy the staged cells into it, delete its staging tab. With
// refresh: tab_by_tab it refreshes the tabs one after the other, then
// _meta.
func (p *publication) Commit(ctx context.Context) error {
	ctx = withLogger(ctx, p.run)
	if p.d.spec.Refresh == TabByTab {
		return p.commitTabByTab(ctx)
	}
	tabs, err := p.d.tabs(ctx, p.svc)
	if err != nil {
		return err
	}
	used := idsOf(tabs)
	var reqs []*gsheets.Request
	targets := map[*content]int64{}
	for _, c := range p.contents {
		t, exists := tabs[c.tab]
		targets[c] = t.id
		if !exists {
			targets[c] = used.fresh()
		}
		reqs = append(reqs, swap(c, t, exists, targets[c])...)
	}
	done := p.d.after(ctx, p.svc, func(t map[string]tab) bool {
		for _, c := range p.contents {
			if !swapped(t, c, targets[c]) {
				return false
			}
		}
		return true
	})
	if err := p.d.batch(ctx, p.svc, reqs, done); err != nil {
		return p.d.explain(fmt.Errorf("swap in the staged tabs (%s): %w", p.tabList(), err))
	}
	p.committed = true
	logger(p.run).Info("tabs refreshed", "step", "publish", "destination", "sheets", "tabs", p.tabList(), "requests", len(reqs))
	return nil
}

// tabList names the run's tabs.
func (p *publication) tabList() string {
	var names []string
	for _, c := range p.contents {
		names = append(names, c.tab)
	}
	return strings.Join(names, ", ")
}

// commitTabByTab refreshes one tab after the other, each through its own
// staging tab and swap, then _meta. Staging tabs an interrupted run left
// go with the first one.
func (p *publication) commitTabByTab(ctx context.Context) error {
	tabs, err := p.d.tabs(ctx, p.svc)
	if err != nil {
		return err
	}
	drop := dropLeftovers(tabs)
	for _, c := range p.contents {
		if err := p.refreshTab(ctx, c, tabs, drop); err != nil {
			return p.d.explain(fmt.Errorf("tab %s: %w", c.tab, err))
		}
		drop = nil
		logger(p.run).Info("tab refreshed", "step", "publish", "destination", "sheets", "tab", c.tab, "rows", c.rows-1)
	}
	p.committed = true
	return nil
}

// refreshTab stages one tab and swaps it in, updating tabs; drop are
// requests sent with the staging tab's creation (and its first rows).
func (p *publication) refreshTab(ctx context.Context, c *content, tabs map[string]tab, drop []*gsheets.Request) error {
	used := idsOf(tabs)
	c.stageID = used.fresh()
	p.wrote = true
	if _, err := p.d.stage(ctx, p.svc, p.conn, append(drop, addStaging(c)), []*content{c}); err != nil {
		return err
	}
	for title := range tabs {
		if strings.HasPrefix(title, stagePrefix) {
			delete(tabs, title)
		}
	}
	t, exists := tabs[c.tab]
	target := t.id
	if !exists {
		target = used.fresh()
	}
	done := p.d.after(ctx, p.svc, func(t map[string]tab) bool { return swapped(t, c, target) })
	if err := p.d.batch(ctx, p.svc, swap(c, t, exists, target), done); err != nil {
		return fmt.Errorf("swap in the staged rows: %w", err)
	}
	tabs[c.tab] = tab{id: target, rows: c.rows, cols: c.ncols, frozenColumn: min(t.frozenColumn, c.ncols-1)}
	return nil
}

// Discard deletes the staging tabs of a run that did not commit. It never
// fails the run: a tab it cannot delete is logged, and the next run
// removes it.
func (p *publication) Discard(ctx context.Context) {
	if !p.wrote || p.committed {
		return
	}
	ctx = withLogger(ctx, p.run)
	log := logger(p.run).With("step", "publish", "destination", "sheets")
	tabs, err := p.d.tabs(ctx, p.svc)
	if err != nil {
		log.Warn("staging tabs not removed: the next run removes them", "error", err)
		return
	}
	mine := map[int64]bool{}
	for _, c := range p.contents {
		mine[c.stageID] = c.stageID != 0
	}
	var reqs []*gsheets.Request
	for title, t := range tabs {
		if strings.HasPrefix(title, stagePrefix) && mine[t.id] {
			reqs = append(reqs, deleteSheet(t.id))
		}
	}
	if len(reqs) == 0 {
		return
	}
	done := p.d.after(ctx, p.svc, func(t map[string]tab) bool {
		for title, s := range t {
			if strings.HasPrefix(title, stagePrefix) && mine[s.id] {
				return false
			}
		}
		return true
	})
	if err := p.d.batch(ctx, p.svc, reqs, done); err != nil {
		log.Warn("staging tabs not removed: the next run removes them", "tabs", len(reqs), "error", err)
		return
	}
	log.Info("staging tabs removed", "tabs", len(reqs))
}

/** The main area's tabs: the Jacobian views and the explore tools. */
import { useStore, viewActions } from '../store';
import type { Tab } from '../store/view';

const TABS: { key: Tab; label: string }[] = [
  { key: 'jacobian', label: 'Jacobian' },
  { key: 'sweep', label: 'Sweep' },
  { key: 'sensitivity', label: 'Global sensitivity' },
  { key: 'variance', label: 'Variance-based' },
  { key: 'check', label: 'Check derivatives' },
];

export function ViewTabs() {
  const tab = useStore((s) => s.view.tab);
  const hasResult = useStore((s) => s.result !== null);
  return (
    <nav className="tabs" role="tablist">
      {TABS.map((t) => (
        <button
          key={t.key}
          type="button"
          role="tab"
          aria-selected={tab === t.key}
          className={tab === t.key ? 'tab active' : 'tab'}
          data-testid={`tab-${t.key}`}
          disabled={!hasResult && t.key !== 'jacobian'}
          onClick={() => viewActions.setTab(t.key)}
        >
          {t.label}
        </button>
      ))}
    </nav>
  );
}

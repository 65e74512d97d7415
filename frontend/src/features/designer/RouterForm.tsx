import { useShallow } from 'zustand/react/shallow';
import type { Route } from '../../lib/definition';
import { routerHandles } from '../../lib/graph';
import type { FieldMessages } from '../../lib/validation';
import type { RouterData, RouterNode } from '../../nodes/types';
import { useDesigner } from '../../stores/designer-store';
import { IdField, TextField } from './fields';
import { ExpressionField, JoinField } from './step-fields';
import { BranchPicker, DependencyPicker } from './StepLinks';

interface Props {
  id: string;
  data: RouterData;
  issues: FieldMessages;
}

/** The smallest `route_<n>` no route (nor the default) uses yet. */
function nextRouteName(data: RouterData): string {
  const taken = new Set([...data.routes.map((route) => route.name), data.default]);
  let n = 1;
  while (taken.has(`route_${n}`)) n += 1;
  return `route_${n}`;
}

/** A router: routes tried in order (the first that holds wins), a default, and the steps each takes. */
export function RouterForm({ id, data, issues }: Props) {
  const { renameNode, updateNodeData, renameBranch, dropBranch } = useDesigner(
    useShallow((s) => ({
      renameNode: s.renameNode,
      updateNodeData: s.updateNodeData,
      renameBranch: s.renameBranch,
      dropBranch: s.dropBranch,
    })),
  );
  const branches = useDesigner(useShallow((s) => routerHandles(data, s.edges, id)));
  const update = (patch: Partial<RouterData>) => updateNodeData<RouterNode>(id, patch);
  const routes = data.routes;
  const names = (list: Route[]) => list.map((route) => route.name);

  const setRoute = (index: number, patch: Partial<Route>) => {
    const old = routes[index]!.name;
    const next = routes.map((route, i) => (i === index ? { ...route, ...patch } : route));
    const shared = names(routes).filter((name) => name === old).length > 1;
    // The steps drawn from a route follow its new name, and so does the default that named it.
    if (patch.name !== undefined && !shared) {
      renameBranch(id, old, patch.name);
      update({ routes: next, ...(data.default === old ? { default: patch.name } : {}) });
    } else {
      update({ routes: next });
    }
  };
  const move = (index: number, by: -1 | 1) => {
    const next = [...routes];
    const [route] = next.splice(index, 1);
    next.splice(index + by, 0, route!);
    update({ routes: next });
  };
  const remove = (index: number) => {
    const next = routes.filter((_, i) => i !== index);
    dropBranch(id, routes[index]!.name, [...names(next), data.default]);
    update({ routes: next });
  };
  const setDefault = (name: string) => {
    if (!names(routes).includes(data.default)) renameBranch(id, data.default, name);
    update({ default: name });
  };

  return (
    <>
      <IdField value={id} onRename={(next) => renameNode(id, next)} errors={issues.id} />
      <fieldset className="fieldset">
        <legend>Routes, tried in order</legend>
        {issues.routes && <p className="field__error">{issues.routes.join(' · ')}</p>}
        {routes.map((route, index) => {
          const n = index + 1;
          return (
            <div key={index} className="input-row" role="group" aria-label={`Route ${n}`}>
              <TextField
                label={`Route ${n} name`}
                value={route.name}
                onChange={(name) => setRoute(index, { name })}
                errors={issues[`routes.${index}.name`]}
              />
              <ExpressionField
                label={`Route ${n} if`}
                value={route.if}
                onChange={(value) => setRoute(index, { if: value })}
                errors={issues[`routes.${index}.if`]}
                hint={index === 0 ? undefined : ''}
              />
              <div className="button-row">
                <button type="button" className="btn btn--ghost btn--sm" disabled={index === 0} onClick={() => move(index, -1)} aria-label={`Move route ${n} up`}>
                  ↑
                </button>
                <button
                  type="button"
                  className="btn btn--ghost btn--sm"
                  disabled={index === routes.length - 1}
                  onClick={() => move(index, 1)}
                  aria-label={`Move route ${n} down`}
                >
                  ↓
                </button>
                <button type="button" className="btn btn--ghost btn--sm" onClick={() => remove(index)} aria-label={`Remove route ${n}`}>
                  Remove
                </button>
              </div>
            </div>
          );
        })}
        <button type="button" className="btn btn--secondary btn--sm" onClick={() => update({ routes: [...routes, { name: nextRouteName(data), if: '' }] })}>
          Add route
        </button>
      </fieldset>
      <TextField
        label="Default route"
        value={data.default}
        onChange={setDefault}
        errors={issues.default}
        hint="Taken when no route holds: a route's name, or a name of its own."
      />
      {branches.map((branch) => (
        <BranchPicker key={branch} sourceId={id} branch={branch} legend={`Steps for ${branch}`} errors={issues[`targets.${branch}`]} />
      ))}
      {issues.targets && <p className="field__error">{issues.targets.join(' · ')}</p>}
      <DependencyPicker stepId={id} errors={issues.after} />
      <JoinField value={data.join} onChange={(join) => update({ join })} errors={issues.join} />
    </>
  );
}

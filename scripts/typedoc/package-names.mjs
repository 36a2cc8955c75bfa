// A TypeDoc plugin: names each entry point after the import that reaches it
// (packages/core/src/index.ts -> @tessera/core, packages/data/src/node.ts -> @tessera/data/node)
// rather than after its folder (core/src).
import { Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (_context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const m = /^(?:packages\/)?(\w+)\/src(?:\/(\w+))?$/.exec(reflection.name);
    if (m) reflection.name = `@tessera/${m[1]}${m[2] && m[2] !== 'index' ? `/${m[2]}` : ''}`;
  });
}

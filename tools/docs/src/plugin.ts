// TypeDoc plugin for ocikit's API reference:
// - the `package` router and theme give each package one page (the project's index and one page
//   per module): every export is rendered in full on its package's page and linked by anchor;
// - validation warns about an export with no JSDoc (TypeDoc's own `notDocumented` also demands it of
//   every member of every interface, which this repository does not require yet: decision 007).
import {
  type Application,
  DeclarationReflection,
  DefaultTheme,
  DefaultThemeRenderContext,
  JSX,
  type PageEvent,
  PageKind,
  type ProjectReflection,
  Reflection,
  ReflectionKind,
  ReflectionType,
  type RouterTarget,
  StructureRouter,
} from 'typedoc';

class PackageRouter extends StructureRouter {
  protected override getPageKind(target: RouterTarget): PageKind | undefined {
    if (target instanceof Reflection && target.kindOf(ReflectionKind.Project | ReflectionKind.Module)) {
      return super.getPageKind(target) ?? PageKind.Reflection;
    }
    return undefined;
  }
}

/** Renders, under a package page's summary of its exports, each export in full. */
class PackageThemeContext extends DefaultThemeRenderContext {
  constructor(...args: ConstructorParameters<typeof DefaultThemeRenderContext>) {
    super(...args);
    const summary = this.moduleReflection;
    this.moduleReflection = (mod) => JSX.createElement(JSX.Fragment, null, summary(mod), this.members(mod));
  }
}

class PackageTheme extends DefaultTheme {
  override getRenderContext(page: PageEvent<Reflection>): DefaultThemeRenderContext {
    return new PackageThemeContext(this.router, this, page, this.application.options);
  }
}

const EXPORT_KINDS =
  ReflectionKind.Class |
  ReflectionKind.Interface |
  ReflectionKind.Function |
  ReflectionKind.Variable |
  ReflectionKind.TypeAlias |
  ReflectionKind.Enum |
  ReflectionKind.Namespace;

function documented(r: DeclarationReflection): boolean {
  if (r.hasComment()) return true;
  const signatures =
    r.type instanceof ReflectionType ? r.type.declaration.getNonIndexSignatures() : r.getNonIndexSignatures();
  return signatures.some((s) => s.hasComment());
}

/** The exports of every module (package, or a package's entry point) that have no JSDoc. */
export function undocumentedExports(project: ProjectReflection): string[] {
  return project
    .getReflectionsByKind(EXPORT_KINDS)
    .filter(
      (r): r is DeclarationReflection =>
        r instanceof DeclarationReflection &&
        r.parent?.kindOf(ReflectionKind.Project | ReflectionKind.Module) === true,
    )
    .filter((r) => !documented(r))
    .map((r) => r.getFriendlyFullName());
}

/** TypeDoc plugin entry point: registers the `package` router and theme, and the undocumented-export check. */
export function load(app: Application): void {
  app.renderer.defineRouter('package', PackageRouter);
  app.renderer.defineTheme('package', PackageTheme);
  app.on('validateProject', (project: ProjectReflection) => {
    for (const name of undocumentedExports(project))
      app.logger.warn(`${name} is exported without a JSDoc comment`);
  });
}

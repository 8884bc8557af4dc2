using System.Runtime.CompilerServices;

namespace ScrapeDo.Lean.Benchmarks;

internal static class ReflectionJson
{
    // BenchmarkDotNet's generated host project inherits Directory.Build.props, which turns reflection JSON off for
    // the whole repository. The peer columns need it (that is what they measure), so it is switched back on here,
    // before any System.Text.Json type initialises. ScrapeDo.Lean's own columns never use it.
    [ModuleInitializer]
    internal static void Enable() => AppContext.SetSwitch("System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault", true);
}

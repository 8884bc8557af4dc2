using System.Globalization;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// Issue 14's fan-out target (5), computed from a report's own figures so that no verdict is read off a table by eye:
/// CPU per target at most <see cref="MaxCpuRatio"/> times the floor's (paired, same rounds), and allocated bytes per
/// target at most the floor's plus <see cref="ContentAllowance"/> times the content bytes.
/// </summary>
public static class FanOutTarget
{
    /// <summary>The CPU line: runner ÷ floor.</summary>
    public const double MaxCpuRatio = 1.15;

    /// <summary>The allocation line: bytes per target the runner may allocate past the floor, per content byte.</summary>
    public const double ContentAllowance = 1.2;

    /// <summary>Whether a row is judged against the target: the runner rows, and the control for comparison.</summary>
    public static bool AppliesTo(string rowName) =>
        rowName.StartsWith("ScrapeDo.Lean runner", StringComparison.Ordinal) || rowName == FanOutRatio.ControlName;

    /// <summary>The allocation limit for a floor that allocated <paramref name="floorBytes"/> per target.</summary>
    public static double AllocationLimit(double floorBytes, int contentBytes) => floorBytes + (ContentAllowance * contentBytes);

    /// <summary>One Markdown list item: the contender's CPU ratio and allocation against the target, each met or missed.</summary>
    public static string Verdict(string transport, string name, double pairedRatio, double allocated, double floorAllocated, int contentBytes)
    {
        double limit = AllocationLimit(floorAllocated, contentBytes);
        return string.Create(CultureInfo.InvariantCulture,
            $"- Target 5, {transport}, {name}: CPU {pairedRatio:0.00}× the floor (line {MaxCpuRatio:0.00}×) **{(pairedRatio <= MaxCpuRatio ? "met" : "missed")}**; allocated {allocated:N0} B/target against {floorAllocated:N0} + {ContentAllowance} × {contentBytes:N0} = {limit:N0} B **{(allocated <= limit ? "met" : "missed")}**.");
    }
}

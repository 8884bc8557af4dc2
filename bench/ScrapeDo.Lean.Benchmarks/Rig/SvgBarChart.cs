using System.Globalization;
using System.Net;
using System.Text;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// A horizontal grouped bar chart as plain SVG text: one group per operation, one bar per series (client), a reference
/// line at 1 (the floor). No dependency; the figures in the labels are the exact values, the bars only guide the eye.
/// </summary>
public static class SvgBarChart
{
    private const int LabelWidth = 230, PlotWidth = 520, RightMargin = 70, BarHeight = 13, BarGap = 2, GroupGap = 12, Top = 58, Bottom = 34;

    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];

    /// <summary>One bar.</summary>
    public sealed record Bar(string Series, double Value);

    /// <summary>One group of bars (an operation).</summary>
    public sealed record Group(string Label, IReadOnlyList<Bar> Bars);

    /// <summary>Renders the chart; <paramref name="logScale"/> for ratios that span orders of magnitude.</summary>
    public static string Render(string title, string subtitle, string axisLabel, IReadOnlyList<Group> groups, bool logScale)
    {
        string[] series = groups.SelectMany(g => g.Bars).Select(b => b.Series).Distinct().ToArray();
        double max = Math.Max(1.2, groups.SelectMany(g => g.Bars).Select(b => b.Value).Where(double.IsFinite).DefaultIfEmpty(1).Max() * 1.08);
        double min = logScale ? Math.Min(0.5, groups.SelectMany(g => g.Bars).Select(b => b.Value).Where(v => v > 0).DefaultIfEmpty(1).Min() * 0.9) : 0;
        double X(double v) => logScale
            ? LabelWidth + (PlotWidth * (Math.Log10(Math.Max(v, min)) - Math.Log10(min)) / (Math.Log10(max) - Math.Log10(min)))
            : LabelWidth + (PlotWidth * v / max);

        int height = Top + Bottom + groups.Sum(g => (g.Bars.Count * (BarHeight + BarGap)) + GroupGap);
        int width = LabelWidth + PlotWidth + RightMargin;
        var svg = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        svg.AppendLine(c, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="11">""");
        svg.AppendLine(c, $"""<rect width="{width}" height="{height}" fill="#ffffff"/>""");
        svg.AppendLine(c, $"""<text x="10" y="18" font-size="14" font-weight="bold">{Esc(title)}</text>""");
        svg.AppendLine(c, $"""<text x="10" y="34" fill="#444">{Esc(subtitle)}</text>""");

        // Legend.
        double lx = LabelWidth;
        for (int i = 0; i < series.Length; i++)
        {
            svg.AppendLine(c, $"""<rect x="{lx:0.#}" y="42" width="10" height="10" fill="{Palette[i % Palette.Length]}"/><text x="{lx + 14:0.#}" y="51">{Esc(series[i])}</text>""");
            lx += 24 + (series[i].Length * 6.2);
        }

        // Grid and ticks.
        int plotBottom = height - Bottom;
        foreach (double tick in Ticks(min, max, logScale))
        {
            double x = X(tick);
            svg.AppendLine(c, $"""<line x1="{x:0.#}" y1="{Top - 4}" x2="{x:0.#}" y2="{plotBottom}" stroke="#e3e3e3"/><text x="{x:0.#}" y="{plotBottom + 13}" text-anchor="middle" fill="#555">{tick.ToString("0.##", c)}</text>""");
        }

        svg.AppendLine(c, $"""<text x="{LabelWidth + (PlotWidth / 2)}" y="{plotBottom + 28}" text-anchor="middle" fill="#333">{Esc(axisLabel)}</text>""");

        double y = Top;
        foreach (Group g in groups)
        {
            double groupHeight = g.Bars.Count * (BarHeight + BarGap);
            svg.AppendLine(c, $"""<text x="{LabelWidth - 8}" y="{y + (groupHeight / 2) + 4:0.#}" text-anchor="end">{Esc(g.Label)}</text>""");
            foreach (Bar bar in g.Bars)
            {
                string color = Palette[Array.IndexOf(series, bar.Series) % Palette.Length];
                double end = double.IsFinite(bar.Value) ? X(bar.Value) : LabelWidth;
                svg.AppendLine(c, $"""<rect x="{LabelWidth}" y="{y:0.#}" width="{Math.Max(1, end - LabelWidth):0.#}" height="{BarHeight}" fill="{color}"><title>{Esc(bar.Series)}: {bar.Value.ToString("0.00", c)}</title></rect>""");
                svg.AppendLine(c, $"""<text x="{end + 4:0.#}" y="{y + BarHeight - 3:0.#}" fill="#222">{(double.IsFinite(bar.Value) ? bar.Value.ToString(bar.Value >= 100 ? "0" : "0.00", c) + "×" : "n/a")}</text>""");
                y += BarHeight + BarGap;
            }

            y += GroupGap;
        }

        double one = X(1);
        svg.AppendLine(c, $"""<line x1="{one:0.#}" y1="{Top - 4}" x2="{one:0.#}" y2="{plotBottom}" stroke="#000" stroke-dasharray="4 3"/>""");
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static IEnumerable<double> Ticks(double min, double max, bool log)
    {
        if (log)
        {
            for (double decade = Math.Pow(10, Math.Floor(Math.Log10(min))); decade <= max; decade *= 10)
            {
                foreach (double m in new[] { 1.0, 2, 5 })
                {
                    double t = decade * m;
                    if (t >= min && t <= max)
                    {
                        yield return t;
                    }
                }
            }

            yield break;
        }

        double step = max <= 2 ? 0.25 : max <= 5 ? 0.5 : max <= 12 ? 1 : Math.Pow(10, Math.Floor(Math.Log10(max)));
        for (double t = 0; t <= max; t += step)
        {
            yield return t;
        }
    }

    private static string Esc(string s) => WebUtility.HtmlEncode(s);
}

namespace ScrapeDo.Lean.Hosting.Tests;

internal static class TestTimeout
{
    /// <summary>A token that cancels after <paramref name="seconds"/>, so no test can hang the run.</summary>
    public static CancellationToken Token(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;
}

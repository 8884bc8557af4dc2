using ScrapeDo.Lean.Internal;

namespace ScrapeDo.Lean.Tests;

/// <summary>
/// The target check's character gate (a one-compare fast path for printable ASCII since issue 14) must refuse exactly the
/// characters the documented rule refuses: whitespace (space) and control characters (C0, DEL, C1), anywhere in the URL.
/// </summary>
public class TargetGateTests
{
    [Fact]
    public void Every_character_up_to_U_0300_is_refused_exactly_when_it_is_a_control_or_a_space()
    {
        for (char c = '\0'; c < '\u0300'; c++)
        {
            foreach (string target in new[] { $"https://a.example/p{c}q", $"https://a.example{c}/", $"https://a.example/{c}" })
            {
                string? problem = RequestValidator.TargetProblem(target);
                bool refusedAsControl = problem?.Contains("whitespace or a control character", StringComparison.Ordinal) == true;
                Assert.True(refusedAsControl == (char.IsControl(c) || c == ' '), $"U+{(int)c:X4} in '{target.Replace(c, '?')}': {problem ?? "accepted"}");
            }
        }
    }

    [Theory]
    [InlineData("https://site.example/products/1", true)]
    [InlineData("HTTP://SITE.EXAMPLE:8080/a?b=c#d", true)]
    [InlineData("https://b\u00fccher.example/katalog", true)]
    [InlineData("https://site.example/caf\u00e9", true)]
    [InlineData("https://exa mple.example/", false)]
    [InlineData("https://site.example/\u007f", false)]
    [InlineData("https://site.example/\u0085", false)]
    [InlineData("https://site.example/\t", false)]
    [InlineData("https://-bad.example/", false)]
    [InlineData("mailto:someone@site.example", false)]
    public void Typical_targets_keep_their_verdict(string target, bool accepted) =>
        Assert.Equal(accepted, RequestValidator.TargetProblem(target) is null);
}

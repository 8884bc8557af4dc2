namespace ScrapeDo.Lean.Tests;

/// <summary>The required-parameter check the runner applies to each plugin parameter set before it is sent.</summary>
public class PluginRequiredParametersTests
{
    [Theory]
    [InlineData("""{"asin":"B0","geocode":"us","zipcode":"10001"}""", null)]
    [InlineData("""{"zipcode":10001,"geocode":"us","asin":"B0","super":true}""", null)]
    [InlineData("""{"asin":"B0","geocode":"us"}""", "zipcode")]
    [InlineData("""{"asin":"","geocode":"us","zipcode":"1"}""", "asin")]
    [InlineData("""{"\u0061sin":"B0","geocode":"us","zipcode":" "}""", null)]
    [InlineData("""{"ASIN":"B0","geocode":"us","zipcode":"1"}""", "asin")]
    [InlineData("""{"other":"x"}""", "asin")]
    public void The_first_required_parameter_left_out_or_empty_is_named(string json, string? missing)
    {
        string[] required = PluginKeys.RequiredParameters(PluginKeys.AmazonProductDetail)!;
        Assert.Equal(missing, PluginParams.FromJson(json).MissingParameter(required));
    }

    [Fact]
    public void Only_documented_plugins_have_required_parameters()
    {
        Assert.Equal(["q"], PluginKeys.RequiredParameters(PluginKeys.GoogleSearch)!);
        Assert.Equal(["url"], PluginKeys.RequiredParameters(PluginKeys.AmazonRaw)!);
        Assert.Null(PluginKeys.RequiredParameters("google/trending"));
        Assert.Null(PluginKeys.RequiredParameters("chatgpt/chat"));
    }
}

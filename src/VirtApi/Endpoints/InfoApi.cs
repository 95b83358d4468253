using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtApi.Contracts;

namespace VirtApi.Endpoints;

/// <summary>Service information and liveness.</summary>
public static class InfoApi
{
    private static readonly string Version =
        typeof(InfoApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static IEndpointRouteBuilder MapInfo(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", GetHealth)
            .WithName(nameof(GetHealth))
            .WithTags("Info")
            .WithSummary("Liveness")
            .WithDescription("Answers while the process serves requests; never touches the database.");
        app.MapGet("/api/v1/info", GetInfo)
            .WithName(nameof(GetInfo))
            .WithTags("Info")
            .WithSummary("Version and capabilities")
            .WithDescription("The server version and DESIGN.md's CPU modes, profiles, memory modes, device models and device kinds, each marked available or not yet.");
        return app;
    }

    public static Ok<HealthResponse> GetHealth() => TypedResults.Ok(new HealthResponse("ok"));

    public static Ok<InfoResponse> GetInfo() => TypedResults.Ok(new InfoResponse(
        "VirtApi",
        Version,
        "v1",
        new MachineInfo("rv64imac_zicsr_zifencei", "qemu-virt"),
        Capabilities.CpuModes,
        Capabilities.CpuProfiles,
        Capabilities.MemoryModes,
        Capabilities.DeviceModels,
        Capabilities.DeviceKinds));
}

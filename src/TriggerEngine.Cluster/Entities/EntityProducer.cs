using Akka.Actor;

namespace TriggerEngine.Cluster.Entities;

/// <summary>
/// Creates an entity by calling a constructor directly. <c>Props.Create(() => new X(...))</c> evaluates the
/// expression's arguments by reflection and then looks the constructor up again for every instance; at a
/// million customers, entities are created tens of thousands of times a second, so that cost shows.
/// </summary>
public sealed class EntityProducer<TActor>(Func<TActor> create) : IIndirectActorProducer where TActor : ActorBase
{
    public Type ActorType => typeof(TActor);
    public ActorBase Produce() => create();
    public void Release(ActorBase actor) { }

    public static Props Props(Func<TActor> create) =>
        Akka.Actor.Props.CreateBy(new EntityProducer<TActor>(create));
}

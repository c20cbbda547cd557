<?php

declare(strict_types=1);

/*
 * Wiring: the one place that knows concrete types. Returns the App.
 */

use Ficus\Kernel\App;
use Ficus\Kernel\Container;
use Ficus\Kernel\Router;
use Ficus\Legacy\Api\HealthApi;
use Ficus\Legacy\Api\ProfileApi;
use Ficus\Legacy\Api\UserApi;
use Ficus\Legacy\Domain\ProfileDomain;
use Ficus\Legacy\Domain\UserDomain;
use Ficus\Legacy\Model\CachedProfileStore;
use Ficus\Legacy\Model\Database;
use Ficus\Legacy\Model\MysqlProfileStore;
use Ficus\Legacy\Model\MysqlUserStore;
use Ficus\Legacy\Service\SystemClock;

require __DIR__ . '/autoload.php';

$c = new Container();
$c->set('clock', static fn () => new SystemClock());
$c->set('db', static fn () => Database::fromEnv());
$c->set('model.profiles', static fn (Container $c) => new CachedProfileStore(
    new MysqlProfileStore($c->get('db'), $c->get('clock'))
));
$c->set('model.users', static fn (Container $c) => new MysqlUserStore($c->get('db')));
$c->set('domain.profiles', static fn (Container $c) => new ProfileDomain($c->get('model.profiles'), $c->get('clock')));
$c->set('domain.users', static fn (Container $c) => new UserDomain($c->get('model.users')));
$c->set('api.profile', static fn (Container $c) => new ProfileApi($c->get('domain.profiles')));
$c->set('api.user', static fn (Container $c) => new UserApi($c->get('domain.users')));
$c->set('api.health', static fn () => new HealthApi());

$router = new Router();
$router->add('POST', '/api/v1/profile/update', 'api.profile', 'update');
$router->add('GET', '/api/v1/profile/get', 'api.profile', 'get');
$router->add('GET', '/api/v1/user/info', 'api.user', 'info');
$router->add('GET', '/healthz', 'api.health', 'check');

return new App($c, $router);

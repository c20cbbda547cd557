<?php

declare(strict_types=1);

// Front controller: nginx sends every request here (fastcgi).
$app = require __DIR__ . '/../bootstrap.php';
$app->handle(Ficus\Kernel\Request::fromGlobals())->send();
